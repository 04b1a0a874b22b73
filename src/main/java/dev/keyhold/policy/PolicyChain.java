package dev.keyhold.policy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.config.TrustSettings;
import dev.keyhold.custodian.Credentials;
import dev.keyhold.custodian.Seal;
import dev.keyhold.domain.CanonicalJson;
import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.issuer.IssuerEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;
import jakarta.transaction.Transactional;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * The issuer policy chain: decides what is appended to {@code issuer_policy} (stored by {@link PolicyStore}) and
 * verifies it. Version 1 is sealed by the HSM when an admin creates the issuer; a suspension and a credential
 * bootstrap are sealed by the HSM; every other version (resume, policy change) carries the signatures of enough
 * distinct custodians of the previous version over a statement naming its digest. Each issuer's head is mirrored in the HSM (a data object in the trust partition,
 * written after the commit that moved it), so a database rolled back to an older chain is detected.
 */
@ApplicationScoped
public class PolicyChain {

    private static final Logger LOG = Logger.getLogger(PolicyChain.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String MIRROR_PREFIX = "keyhold-policy-head:";

    @Inject
    PolicyStore store;

    @Inject
    Clock clock;

    @Inject
    Seal seal;

    @Inject
    Credentials credentials;

    @Inject
    Approvals approvals;

    @Inject
    ChangeRecorder recorder;

    @Inject
    HsmPort hsm;

    @Inject
    TrustSettings trust;

    @Inject
    TransactionSynchronizationRegistry tsr;

    /** issuer#version → digest + evidence already verified by this process. */
    private final Map<String, String> verified = new ConcurrentHashMap<>();

    public record Version(int version, String document, String digest, String evidence, Instant createdAt) {
        public Map<String, Object> doc() {
            return PolicyDocuments.parse(document);
        }

        public Map<String, Object> evidenceMap() {
            return PolicyDocuments.parse(evidence);
        }
    }

    // ------------------------------------------------------------------------------------------------ reading

    @Transactional
    public List<Version> versions(String issuerId) {
        return store.versions(issuerId);
    }

    @Transactional
    public Optional<Version> head(String issuerId) {
        List<Version> all = versions(issuerId);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    // ------------------------------------------------------------------------------------------------ writing

    /** A new issuer's version 1, in the transaction that creates it. */
    void onIssuerCreated(@jakarta.enterprise.event.Observes dev.keyhold.issuer.IssuerCreated e) {
        create(e.issuer(), "created");
    }

    /**
     * Credential bootstrap in every issuer that names the principal, each in a transaction of its own (after an
     * enrollment, outside any transaction).
     */
    void onCredentialEnrolled(@jakarta.enterprise.event.Observes dev.keyhold.custodian.CredentialEnrolled e) {
        List<String> named = io.quarkus.narayana.jta.QuarkusTransaction.requiringNew()
                .call(() -> IssuerEntity.<IssuerEntity>listAll().stream()
                        .filter(i -> i.custodians.contains(e.principal()))
                        .map(i -> i.id)
                        .toList());
        for (String id : named) {
            try {
                io.quarkus.narayana.jta.QuarkusTransaction.requiringNew().run(() -> {
                    IssuerEntity issuer = IssuerEntity.findById(id, jakarta.persistence.LockModeType.PESSIMISTIC_WRITE);
                    if (issuer != null) {
                        bootstrap(issuer, e.principal());
                    }
                });
            } catch (RuntimeException ex) {
                LOG.warnf("credential bootstrap of %s in issuer %s failed: %s", e.principal(), id, ex.toString());
            }
        }
    }

    /** Version 1 of a new issuer, sealed by the HSM; lists each custodian's sealed credentials as of now. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Version create(IssuerEntity issuer, String reason) {
        Map<String, Object> doc = PolicyDocuments.document(fields(issuer), 1, null, this::credentialEntries);
        return appendSealed(issuer.id, doc, reason);
    }

    /** The kill switch: a version equal to the head but SUSPENDED, sealed by the HSM. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Optional<Version> suspend(IssuerEntity issuer) {
        Optional<Version> head = head(issuer.id);
        if (head.isEmpty()) {
            return Optional.empty();
        }
        Map<String, Object> doc = next(head.get(), Map.of("status", IssuerStatus.SUSPENDED.name()));
        return Optional.of(appendSealed(issuer.id, doc, "suspended"));
    }

    /**
     * Credential bootstrap: while the head has fewer than approvalsRequired custodians with a credential (nobody
     * could approve anything), a named custodian's newly sealed credentials are added by an HSM-sealed version that
     * changes nothing else. Returns the version made, if any.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public Optional<Version> bootstrap(IssuerEntity issuer, String principal) {
        Optional<Version> head = head(issuer.id);
        if (head.isEmpty()) {
            return Optional.empty();
        }
        Map<String, Object> doc = head.get().doc();
        if (!PolicyDocuments.custodianNames(doc).contains(principal)
                || PolicyDocuments.custodiansWithCredentials(doc) >= PolicyDocuments.approvalsRequired(doc)) {
            return Optional.empty();
        }
        List<Map<String, Object>> fresh = credentialEntries(principal);
        if (CanonicalJson.canonicalize(fresh)
                .equals(CanonicalJson.canonicalize(PolicyDocuments.credentialsOf(doc, principal)))) {
            return Optional.empty();
        }
        List<Map<String, Object>> custodians = new ArrayList<>();
        for (Map<String, Object> c : PolicyDocuments.custodians(doc)) {
            Map<String, Object> copy = new LinkedHashMap<>(c);
            if (principal.equals(c.get("name"))) {
                copy.put("credentials", fresh);
            }
            custodians.add(copy);
        }
        return Optional.of(
                appendSealed(issuer.id, next(head.get(), Map.of("custodians", custodians)), "credential-bootstrap"));
    }

    /** The canonical text of the version that would follow the head with the issuer's fields as {@code f}. */
    @Transactional(Transactional.TxType.MANDATORY)
    public String propose(String issuerId, PolicyDocuments.Fields f) {
        Version head = head(issuerId)
                .orElseThrow(
                        () -> new PolicyViolation("no-policy-chain", "issuer " + issuerId + " has no policy chain"));
        return PolicyDocuments.canonical(
                PolicyDocuments.document(f, head.version() + 1, head.digest(), this::credentialEntries));
    }

    /** The resume proposal: the head, ACTIVE again. */
    @Transactional(Transactional.TxType.MANDATORY)
    public String proposeResume(String issuerId) {
        Version head = head(issuerId)
                .orElseThrow(
                        () -> new PolicyViolation("no-policy-chain", "issuer " + issuerId + " has no policy chain"));
        return PolicyDocuments.canonical(next(head, Map.of("status", IssuerStatus.ACTIVE.name())));
    }

    /**
     * Appends a version approved by custodians: {@code document} is the proposal their statement names, which must
     * still follow the head. Returns empty (nothing written) when the chain has moved since the proposal.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public Optional<Version> appendApproved(
            String issuerId,
            String document,
            String requestId,
            String statement,
            List<Map<String, Object>> signatures) {
        Version head = head(issuerId).orElse(null);
        Map<String, Object> doc = PolicyDocuments.parse(document);
        if (head == null
                || !Objects.equals(doc.get("previous"), head.digest())
                || PolicyDocuments.version(doc) != head.version() + 1) {
            return Optional.empty();
        }
        Map<String, Object> evidence = new LinkedHashMap<>();
        evidence.put("approvedBy", "custodians");
        evidence.put("request", requestId);
        evidence.put("statement", statement);
        evidence.put("signatures", signatures);
        return Optional.of(insert(issuerId, document, CanonicalJson.canonicalize(evidence)));
    }

    private Version appendSealed(String issuerId, Map<String, Object> doc, String reason) {
        String text = PolicyDocuments.canonical(doc);
        String digest = PolicyDocuments.digest(text);
        Map<String, Object> evidence = new LinkedHashMap<>();
        evidence.put("sealedBy", "hsm");
        evidence.put("reason", reason);
        evidence.put("seal", seal.seal(sealPayload(issuerId, PolicyDocuments.version(doc), digest, reason)));
        // version 1 of a new issuer is recorded by issuer.created itself (with its digest)
        return insert(issuerId, text, CanonicalJson.canonicalize(evidence), !"created".equals(reason));
    }

    private Version insert(String issuerId, String document, String evidence) {
        return insert(issuerId, document, evidence, true);
    }

    private Version insert(String issuerId, String document, String evidence, boolean audit) {
        Map<String, Object> doc = PolicyDocuments.parse(document);
        int version = PolicyDocuments.version(doc);
        String digest = PolicyDocuments.digest(document);
        Instant now = clock.instant();
        store.insert(issuerId, version, document, digest, evidence, now);
        if (audit) {
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("version", version);
            details.put("digest", digest);
            Map<String, Object> ev = PolicyDocuments.parse(evidence);
            details.put("evidence", ev.containsKey("sealedBy") ? "sealed:" + ev.get("reason") : "custodians");
            recorder.record(
                    Change.auditOnly("issuer.policy-version", "keyhold", Change.SUCCESS, issuerId, null, details));
        }
        mirrorAfterCommit(issuerId, version, digest);
        return new Version(version, document, digest, evidence, now);
    }

    private Map<String, Object> next(Version head, Map<String, Object> changes) {
        Map<String, Object> doc = PolicyDocuments.with(head.doc(), changes);
        doc.put("version", head.version() + 1);
        doc.put("previous", head.digest());
        return doc;
    }

    List<Map<String, Object>> credentialEntries(String principal) {
        return credentials.sealed(principal).stream()
                .map(Credentials.Credential::policyEntry)
                .toList();
    }

    public static PolicyDocuments.Fields fields(IssuerEntity e) {
        return new PolicyDocuments.Fields(
                e.id,
                e.issuerUri,
                e.partition,
                e.status,
                e.algorithm,
                e.audiences,
                e.signers,
                e.approvalsRequired,
                e.custodians,
                e.policy());
    }

    static Map<String, Object> sealPayload(String issuerId, int version, String digest, String reason) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("type", "keyhold.policy-seal.v1");
        p.put("issuer", issuerId);
        p.put("version", version);
        p.put("digest", digest);
        p.put("reason", reason);
        return p;
    }

    // ------------------------------------------------------------------------------------------------ mirror

    private void mirrorAfterCommit(String issuerId, int version, String digest) {
        tsr.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {}

            @Override
            public void afterCompletion(int status) {
                if (status == Status.STATUS_COMMITTED) {
                    writeMirror(issuerId, version, digest);
                }
            }
        });
    }

    void writeMirror(String issuerId, int version, String digest) {
        try {
            Optional<int[]> current = mirrorVersion(issuerId);
            if (current.isPresent() && current.get()[0] >= version) {
                return;
            }
            hsm.putData(
                    trust.partition(),
                    MIRROR_PREFIX + issuerId,
                    (version + " " + digest).getBytes(StandardCharsets.US_ASCII));
        } catch (RuntimeException e) {
            // The next verification advances it; until then a rollback to this version would go unnoticed.
            LOG.warnf("policy head of issuer %s not mirrored in the HSM: %s", issuerId, e.toString());
        }
    }

    /** The mirrored head: [version] and its digest, if the HSM holds one. */
    Optional<int[]> mirrorVersion(String issuerId) {
        return mirror(issuerId).map(m -> new int[] {Integer.parseInt(m[0])});
    }

    Optional<String[]> mirror(String issuerId) {
        return hsm.getData(trust.partition(), MIRROR_PREFIX + issuerId)
                .map(b -> new String(b, StandardCharsets.US_ASCII).split(" ", 2));
    }

    // ------------------------------------------------------------------------------------------------ verifying

    /**
     * Verifies the whole chain of the issuer (evidence already verified by this process is not checked again, the
     * links and digests always are) and compares its head with the HSM mirror. Returns the versions, oldest first.
     *
     * @throws PolicyViolation on any break
     */
    public List<Version> verify(String issuerId) {
        return verify(issuerId, true);
    }

    /**
     * The same; {@code checkMirror} false skips the HSM mirror (deciding a request: a rollback is still caught where
     * it matters, when the snapshot that would sign is built).
     */
    public List<Version> verify(String issuerId, boolean checkMirror) {
        List<Version> chain = versions(issuerId);
        Optional<String[]> m = checkMirror ? mirror(issuerId) : Optional.empty();
        verifyVersions(issuerId, chain, recordedThrough(chain, m));
        if (checkMirror) {
            compareMirror(issuerId, chain, m);
        }
        return chain;
    }

    /**
     * The newest version whose digest the HSM mirror records, when the stored chain has that very version (else 0).
     * The mirror is written only after that version's chain was verified (after the commit that appended it with its
     * verified evidence, or by a verification), and each document names its predecessor's digest, so the recorded
     * digest vouches for every document up to it: their evidence need not be checked again, in any process. Links,
     * digests and canonical form are still checked for every version.
     */
    static int recordedThrough(List<Version> chain, Optional<String[]> mirror) {
        if (mirror.isEmpty()) {
            return 0;
        }
        int mv = recordedVersion(mirror.get());
        return mv >= 1 && mv <= chain.size() && chain.get(mv - 1).digest().equals(recordedDigest(mirror.get()))
                ? mv
                : 0;
    }

    /** The version a mirror value records, or -1 when it is not a number. */
    private static int recordedVersion(String[] mirror) {
        try {
            return Integer.parseInt(mirror[0]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String recordedDigest(String[] mirror) {
        return mirror.length > 1 ? mirror[1] : "";
    }

    /**
     * The verification of versions already read (oldest first): links, digests, canonical form and each version's
     * evidence (HSM seal or custodian signatures), without the database read and without the HSM mirror.
     *
     * @throws PolicyViolation on any break
     */
    void verifyVersions(String issuerId, List<Version> chain) {
        verifyVersions(issuerId, chain, 0);
    }

    /**
     * The same, with versions up to {@code recordedThrough} vouched for by the HSM-recorded head
     * ({@link #recordedThrough}): their evidence is not checked again.
     */
    void verifyVersions(String issuerId, List<Version> chain, int recordedThrough) {
        if (chain.isEmpty()) {
            throw new PolicyViolation("no-policy-chain", "issuer " + issuerId + " has no policy chain");
        }
        Version prev = null;
        Map<String, Object> prevDoc = null;
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Version v : chain) {
            Map<String, Object> doc;
            try {
                doc = v.doc();
            } catch (IllegalArgumentException e) {
                throw new PolicyViolation("policy-chain-broken", "policy version " + v.version() + " is not JSON");
            }
            int expected = prev == null ? 1 : prev.version() + 1;
            if (v.version() != expected
                    || !PolicyDocuments.digest(v.document()).equals(v.digest())
                    || !PolicyDocuments.canonical(doc).equals(v.document())
                    || !Objects.equals(doc.get("version"), v.version())
                    || !issuerId.equals(doc.get("issuer"))
                    || !PolicyDocuments.TYPE.equals(doc.get("type"))
                    || !Objects.equals(doc.get("previous"), prev == null ? null : prev.digest())) {
                throw new PolicyViolation(
                        "policy-chain-broken",
                        "policy version " + v.version() + " of issuer " + issuerId
                                + " does not follow its predecessor (a database write)");
            }
            String key = issuerId + "#" + v.version();
            String fingerprint = v.digest() + "\n" + v.evidence();
            if (v.version() > recordedThrough && !fingerprint.equals(verified.get(key))) {
                verifyEvidence(issuerId, v, doc, prevDoc, docs);
                verified.put(key, fingerprint);
            }
            docs.add(doc);
            prev = v;
            prevDoc = doc;
        }
    }

    private void compareMirror(String issuerId, List<Version> chain, Optional<String[]> m) {
        Version head = chain.get(chain.size() - 1);
        if (m.isEmpty()) {
            writeMirror(issuerId, head.version(), head.digest());
            return;
        }
        int mv = recordedVersion(m.get());
        if (mv < 1) {
            throw new PolicyViolation(
                    "policy-mirror-unreadable",
                    "the HSM mirror of issuer " + issuerId + "'s policy head is unreadable");
        }
        if (mv > head.version()) {
            throw new PolicyViolation(
                    "policy-rollback",
                    "issuer " + issuerId + "'s policy chain ends at version " + head.version()
                            + " but the HSM recorded version " + mv + ": the database was rolled back");
        }
        if (recordedThrough(chain, m) != mv) {
            throw new PolicyViolation(
                    "policy-rollback",
                    "issuer " + issuerId + "'s policy version " + mv + " differs from the one the HSM recorded");
        }
        if (mv < head.version()) {
            writeMirror(issuerId, head.version(), head.digest());
        }
    }

    private void verifyEvidence(
            String issuerId,
            Version v,
            Map<String, Object> doc,
            Map<String, Object> prevDoc,
            List<Map<String, Object>> earlier) {
        Map<String, Object> ev;
        try {
            ev = v.evidenceMap();
        } catch (IllegalArgumentException e) {
            throw broken(issuerId, v, "its evidence is not JSON");
        }
        if ("hsm".equals(ev.get("sealedBy"))) {
            String reason = String.valueOf(ev.get("reason"));
            if (!(ev.get("seal") instanceof String s)
                    || !seal.seals(s, sealPayload(issuerId, v.version(), v.digest(), reason))) {
                throw broken(issuerId, v, "its HSM seal does not verify");
            }
            boolean first = v.version() == 1;
            boolean ok = switch (reason) {
                case "created", "upgrade" -> first;
                case "suspended" ->
                    !first
                            && IssuerStatus.SUSPENDED.name().equals(doc.get("status"))
                            && CanonicalJson.canonicalize(
                                            PolicyDocuments.with(PolicyDocuments.body(doc), Map.of("status", "")))
                                    .equals(CanonicalJson.canonicalize(
                                            PolicyDocuments.with(PolicyDocuments.body(prevDoc), Map.of("status", ""))));
                case "credential-bootstrap" ->
                    !first
                            && CanonicalJson.canonicalize(PolicyDocuments.withoutCredentials(doc))
                                    .equals(CanonicalJson.canonicalize(PolicyDocuments.withoutCredentials(prevDoc)))
                            && PolicyDocuments.custodiansWithCredentials(prevDoc)
                                    < PolicyDocuments.approvalsRequired(prevDoc);
                default -> false;
            };
            if (!ok) {
                throw broken(issuerId, v, "its sealed change (" + reason + ") is not one the HSM may seal");
            }
            return;
        }
        if (!"custodians".equals(ev.get("approvedBy"))
                || prevDoc == null
                || !(ev.get("statement") instanceof String st)) {
            throw broken(issuerId, v, "it carries no custodian approval");
        }
        Map<String, Object> stmt;
        try {
            stmt = PolicyDocuments.parse(st);
        } catch (IllegalArgumentException e) {
            throw broken(issuerId, v, "its statement is not JSON");
        }
        Object subject = stmt.get("subject");
        if (!"keyhold.approval.v1".equals(stmt.get("type"))
                || !issuerId.equals(stmt.get("issuer"))
                || !List.of("ISSUER_RESUME", "POLICY_CHANGE").contains(stmt.get("kind"))
                || !(subject instanceof Map<?, ?> sub)
                || !v.digest().equals(sub.get("policyDigest"))
                || !Objects.equals(stmt.get("policyVersion"), v.version() - 1)
                || !Objects.equals(
                        stmt.get("policyDigest"),
                        prevDoc == null ? null : PolicyDocuments.digest(PolicyDocuments.canonical(prevDoc)))) {
            throw broken(issuerId, v, "its statement does not name this version and its predecessor");
        }
        List<Approvals.Signed> claimed = new ArrayList<>();
        if (ev.get("signatures") instanceof List<?> l) {
            for (Object o : l) {
                if (o instanceof Map<?, ?> m && m.get("custodian") instanceof String c) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> sig = (Map<String, Object>) m;
                    claimed.add(new Approvals.Signed(c, sig));
                }
            }
        }
        int required = Math.max(
                PolicyDocuments.approvalsRequired(prevDoc),
                stmt.get("approvalsRequired") instanceof Number n ? n.intValue() : 0);
        int got = approvals.count(st, stmt, List.of(prevDoc), claimed).size();
        if (got < required) {
            throw broken(issuerId, v, "it carries " + got + " valid custodian signature(s), " + required + " required");
        }
    }

    private static PolicyViolation broken(String issuerId, Version v, String why) {
        return new PolicyViolation(
                "policy-evidence-invalid",
                "policy version " + v.version() + " of issuer " + issuerId + " is not valid: " + why);
    }

    static Map<String, Object> map(String json) {
        try {
            return JSON.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() {});
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }
}
