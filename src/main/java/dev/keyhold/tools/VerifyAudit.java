package dev.keyhold.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import dev.keyhold.audit.AuditHash;
import dev.keyhold.evidence.LedgerHash;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks an audit export ({@code GET /v1/audit/export}) or a ledger export ({@code GET /v1/evidence/ledger/export})
 * offline: no network, no database, no Quarkus; the JDK, Jackson and Nimbus only. It recomputes every hash, checks
 * that each record (batch) links to the one before, that sequence numbers run without gaps, that every checkpoint
 * carries a valid signature of a trusted audit key over a hash that the records reproduce, and says exactly which
 * record, batch or checkpoint fails (its position in the file, 1-based, and its seq).
 *
 * <pre>
 * java -cp 'target/quarkus-app/lib/main/*:target/quarkus-app/app/*' dev.keyhold.tools.VerifyAudit [--key KID]... FILE
 * </pre>
 * {@code --key} pins the audit key's thumbprint (as {@code GET /v1/audit/verify} shows it, kept out of band); without
 * it the verifier trusts the key the export itself carries, and says so. Exit status 0: intact; 1: a check failed;
 * 2: the file cannot be read or is not an export.
 */
public final class VerifyAudit {

    public static final String AUDIT_FORMAT = "keyhold-audit-export/1";
    public static final String LEDGER_FORMAT = "keyhold-ledger-export/1";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The outcome: failures (each naming its position) and notes (what was and was not vouched for). */
    public record Report(List<String> failures, List<String> notes) {
        public boolean ok() {
            return failures.isEmpty();
        }
    }

    private VerifyAudit() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out));
    }

    public static int run(String[] args, PrintStream out) {
        Set<String> pins = new LinkedHashSet<>();
        String file = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--key") && i + 1 < args.length) {
                pins.add(args[++i]);
            } else if (file == null && !args[i].startsWith("--")) {
                file = args[i];
            } else {
                file = null;
                break;
            }
        }
        if (file == null) {
            out.println("usage: VerifyAudit [--key AUDIT_KEY_THUMBPRINT]... EXPORT.json");
            return 2;
        }
        JsonNode doc;
        try {
            doc = JSON.readTree(Files.readAllBytes(Path.of(file)));
        } catch (JsonProcessingException e) {
            out.println("FAILED: " + file + " is not JSON: " + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr());
            return 1;
        } catch (IOException e) {
            out.println("cannot read " + file + ": " + e.getMessage());
            return 2;
        }
        String format = doc == null ? null : doc.path("format").asText(null);
        Report r;
        if (AUDIT_FORMAT.equals(format)) {
            r = verifyAudit(doc, pins);
        } else if (LEDGER_FORMAT.equals(format)) {
            r = verifyLedger(doc, pins);
        } else {
            out.println(file + " is not a Keyhold export (format " + format + ")");
            return 2;
        }
        r.notes().forEach(n -> out.println("  " + n));
        if (r.ok()) {
            out.println("OK: " + file + " is intact");
            return 0;
        }
        out.println("FAILED: " + r.failures().size() + " problem(s) in " + file);
        r.failures().forEach(f -> out.println("  " + f));
        return 1;
    }

    public static Report verifyAudit(JsonNode doc, Set<String> pins) {
        List<String> failures = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        Map<String, PublicKey> keys = trustedKeys(doc.path("auditKeys"), pins, failures, notes);
        JsonNode records = doc.path("records");
        Map<Long, String> verifiedHash = new HashMap<>();
        Set<Long> announced = new LinkedHashSet<>();
        Long prevSeq = null;
        String prevHash = null;
        long first = -1;
        long last = -1;
        for (int i = 0; i < records.size(); i++) {
            JsonNode r = records.get(i);
            String where = "record #" + (i + 1) + " (seq " + r.path("seq").asText("?") + ")";
            long seq;
            String hash;
            String computed;
            try {
                seq = r.get("seq").asLong();
                hash = text(r, "hash");
                computed = AuditHash.compute(
                        seq,
                        Instant.parse(text(r, "recordedAt")),
                        text(r, "node"),
                        text(r, "actor"),
                        text(r, "action"),
                        text(r, "outcome"),
                        text(r, "issuerId"),
                        text(r, "kid"),
                        text(r, "requestId"),
                        text(r, "details"),
                        text(r, "prevHash"));
            } catch (RuntimeException e) {
                failures.add(where + ": unreadable (" + e.getMessage() + ")");
                continue;
            }
            boolean linked = link(where, "record", seq, text(r, "prevHash"), prevSeq, prevHash, failures);
            boolean intact = computed.equals(hash);
            if (!intact) {
                failures.add(where + ": its contents do not match its hash (the record was edited)");
            } else if (linked) {
                verifiedHash.putIfAbsent(seq, hash);
            }
            if ("audit.checkpointed".equals(text(r, "action"))) {
                announced.add(seq);
            }
            first = first < 0 ? seq : first;
            last = seq;
            prevSeq = seq;
            prevHash = hash;
        }
        notes.add("audit export: " + records.size() + " records"
                + (records.isEmpty() ? "" : " (seq " + first + ".." + last + ")") + ", "
                + doc.path("checkpoints").size() + " checkpoints");
        Signed signed = checkpoints(doc.path("checkpoints"), keys, verifiedHash, first, last, failures, false);
        long vouched = signed.vouched();
        for (long seq : announced) {
            if (!signed.seqs().contains(seq)) {
                failures.add(
                        "record seq " + seq + " announces a checkpoint that is missing from the export or invalid");
            }
        }
        vouchedNote(vouched, first, last, "record", notes, failures, records.isEmpty());
        return new Report(failures, notes);
    }

    public static Report verifyLedger(JsonNode doc, Set<String> pins) {
        List<String> failures = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        Map<String, PublicKey> keys = trustedKeys(doc.path("auditKeys"), pins, failures, notes);
        JsonNode batches = doc.path("batches");
        Map<Long, String> verifiedHash = new HashMap<>();
        Long prevSeq = null;
        String prevHash = null;
        long first = -1;
        long last = -1;
        long tokens = 0;
        for (int i = 0; i < batches.size(); i++) {
            JsonNode b = batches.get(i);
            String where = "batch #" + (i + 1) + " (seq " + b.path("seq").asText("?") + ")";
            long seq;
            String hash;
            boolean intact;
            String why = null;
            try {
                seq = b.get("seq").asLong();
                hash = text(b, "hash");
                JsonNode ts = b.path("tokens");
                List<String> lines = new ArrayList<>();
                for (int p = 0; p < ts.size(); p++) {
                    JsonNode t = ts.get(p);
                    lines.add(LedgerHash.line(
                            t.get("position").asInt(),
                            text(t, "sha256"),
                            text(t, "jti"),
                            text(t, "kid"),
                            text(t, "issuer"),
                            text(t, "sub"),
                            text(t, "aud"),
                            t.get("iat").asLong(),
                            t.get("exp").asLong()));
                    if (t.get("position").asInt() != p) {
                        why = "token #" + (p + 1) + " is at position "
                                + t.get("position").asInt() + " (tokens were reordered)";
                    }
                }
                tokens += ts.size();
                String digest = LedgerHash.tokensDigest(lines);
                if (why == null && ts.size() != b.get("tokenCount").asInt()) {
                    why = "it holds " + ts.size() + " tokens but says "
                            + b.get("tokenCount").asInt() + " (a token was removed or added)";
                } else if (why == null && !digest.equals(text(b, "tokensDigest"))) {
                    why = "its tokens do not match its digest (a token was edited, removed or reordered)";
                }
                String computed = LedgerHash.batchHash(
                        seq,
                        Instant.parse(text(b, "recordedAt")),
                        text(b, "node"),
                        b.get("tokenCount").asInt(),
                        text(b, "tokensDigest"),
                        text(b, "prevHash"));
                if (why == null && !computed.equals(hash)) {
                    why = "its contents do not match its hash (the batch was edited)";
                }
                intact = why == null;
            } catch (RuntimeException e) {
                failures.add(where + ": unreadable (" + e.getMessage() + ")");
                continue;
            }
            boolean linked = link(where, "batch", seq, text(b, "prevHash"), prevSeq, prevHash, failures);
            if (!intact) {
                failures.add(where + ": " + why);
            } else if (linked) {
                verifiedHash.putIfAbsent(seq, hash);
            }
            first = first < 0 ? seq : first;
            last = seq;
            prevSeq = seq;
            prevHash = hash;
        }
        notes.add("ledger export: " + batches.size() + " batches"
                + (batches.isEmpty() ? "" : " (seq " + first + ".." + last + ")") + ", " + tokens + " tokens, "
                + doc.path("checkpoints").size() + " checkpoints");
        long vouched = checkpoints(doc.path("checkpoints"), keys, verifiedHash, first, last, failures, true)
                .vouched();
        vouchedNote(vouched, first, last, "batch", notes, failures, batches.isEmpty());
        return new Report(failures, notes);
    }

    /** Checks seq continuity and the link to the previous element; false when it failed (already reported). */
    private static boolean link(
            String where,
            String noun,
            long seq,
            String prevHashField,
            Long prevSeq,
            String prevHash,
            List<String> failures) {
        if (prevSeq == null) {
            if (seq == 1 && !LedgerHash.GENESIS.equals(prevHashField)) {
                failures.add(where + ": the first " + noun + " must link to the genesis hash");
                return false;
            }
            return true;
        }
        if (seq != prevSeq + 1) {
            failures.add(where + ": expected seq " + (prevSeq + 1)
                    + (seq > prevSeq + 1
                            ? ": " + noun + "(s) " + (prevSeq + 1) + (seq - 1 > prevSeq + 1 ? ".." + (seq - 1) : "")
                                    + " missing before it"
                            : ": out of order (" + noun + "s were moved)"));
            return false;
        }
        if (!prevHash.equals(prevHashField)) {
            failures.add(where + ": does not link to the " + noun + " before it (prevHash differs)");
            return false;
        }
        return true;
    }

    /** The seqs that carry a validly signed checkpoint, and the highest one the records reproduce (-1: none). */
    private record Signed(Set<Long> seqs, long vouched) {}

    private static Signed checkpoints(
            JsonNode cps,
            Map<String, PublicKey> keys,
            Map<Long, String> verifiedHash,
            long first,
            long last,
            List<String> failures,
            boolean ledger) {
        Set<Long> signed = new LinkedHashSet<>();
        long vouched = -1;
        for (int j = 0; j < cps.size(); j++) {
            JsonNode c = cps.get(j);
            String where = "checkpoint #" + (j + 1) + " (seq " + c.path("seq").asText("?") + ")";
            try {
                long seq = c.get("seq").asLong();
                String hash = text(c, "hash");
                Instant time = Instant.parse(text(c, "time"));
                String keyId = text(c, "keyId");
                PublicKey key = keys.get(keyId);
                if (key == null) {
                    failures.add(where + ": signed by key " + keyId + ", which is not a trusted audit key of this"
                            + " deployment (a checkpoint from another deployment?)");
                    continue;
                }
                byte[] bytes = ledger
                        ? LedgerHash.checkpointBytes(seq, hash, time, text(c, "node"), keyId)
                        : AuditHash.checkpointBytes(seq, hash, time, text(c, "node"), keyId);
                if (!verifies(key, bytes, text(c, "signature"))) {
                    failures.add(where + ": its signature does not verify under audit key " + keyId);
                    continue;
                }
                signed.add(seq);
                if (seq < first || seq > last) {
                    failures.add(where + ": signs seq " + seq + ", outside the exported " + first + ".." + last);
                    continue;
                }
                String reproduced = verifiedHash.get(seq);
                if (reproduced == null) {
                    failures.add(where + ": the " + (ledger ? "batch" : "record") + " it signs is missing or broken");
                } else if (!reproduced.equals(hash)) {
                    failures.add(where + ": signs hash " + hash + " but the " + (ledger ? "batch" : "record")
                            + " carries " + reproduced + " (the chain was rewritten)");
                } else {
                    vouched = Math.max(vouched, seq);
                }
            } catch (RuntimeException e) {
                failures.add(where + ": unreadable (" + e.getMessage() + ")");
            }
        }
        return new Signed(signed, vouched);
    }

    private static void vouchedNote(
            long vouched,
            long first,
            long last,
            String noun,
            List<String> notes,
            List<String> failures,
            boolean empty) {
        if (empty) {
            notes.add("nothing to check: the export holds no " + noun + "s");
        } else if (vouched < 0) {
            failures.add("no valid checkpoint signs any " + noun + " of this export: nothing in it is vouched for"
                    + " (create a checkpoint, then export again)");
        } else if (vouched < last) {
            notes.add(noun + "s " + first + ".." + vouched + " are vouched for by a signed checkpoint; " + noun + "s "
                    + (vouched + 1) + ".." + last + " follow the last checkpoint (their chain is intact, not signed)");
        } else {
            notes.add(noun + "s " + first + ".." + last + " are vouched for by a signed checkpoint");
        }
    }

    private static Map<String, PublicKey> trustedKeys(
            JsonNode jwks, Set<String> pins, List<String> failures, List<String> notes) {
        Map<String, PublicKey> trusted = new LinkedHashMap<>();
        Set<String> seen = new LinkedHashSet<>();
        for (int i = 0; i < jwks.size(); i++) {
            try {
                JWK jwk = JWK.parse(jwks.get(i).toString());
                String thumbprint = jwk.computeThumbprint().toString();
                if (jwk.getKeyID() != null && !jwk.getKeyID().equals(thumbprint)) {
                    failures.add("audit key #" + (i + 1) + ": kid " + jwk.getKeyID() + " is not its thumbprint "
                            + thumbprint);
                    continue;
                }
                seen.add(thumbprint);
                if (pins.isEmpty() || pins.contains(thumbprint)) {
                    trusted.put(thumbprint, ((ECKey) jwk).toECPublicKey());
                }
            } catch (Exception e) {
                failures.add("audit key #" + (i + 1) + ": not an EC public JWK (" + e.getMessage() + ")");
            }
        }
        if (pins.isEmpty()) {
            notes.add("trusting the audit key(s) the export carries: " + seen + " (pin one with --key to check it"
                    + " against a thumbprint you hold)");
        } else {
            for (String p : pins) {
                if (!seen.contains(p)) {
                    failures.add("the pinned audit key " + p + " is not in the export");
                }
            }
            notes.add("audit key(s) pinned: " + pins);
        }
        return trusted;
    }

    private static boolean verifies(PublicKey key, byte[] bytes, String signature) {
        try {
            Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
            s.initVerify(key);
            s.update(bytes);
            return s.verify(Base64.getUrlDecoder().decode(signature));
        } catch (Exception e) {
            return false;
        }
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.isTextual() ? v.asText() : v.toString();
    }
}
