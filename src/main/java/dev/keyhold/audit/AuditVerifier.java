package dev.keyhold.audit;

import com.nimbusds.jose.jwk.JWK;
import dev.keyhold.audit.AuditStore.StoredCheckpoint;
import dev.keyhold.hsm.HsmException;
import dev.keyhold.hsm.HsmPort;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Recomputes the audit chain from the stored rows (SPEC invariant 8) and checks every signed checkpoint.
 *
 * <p>The chain alone catches an edited, deleted or reordered record: seq must run 1, 2, 3…, each prev_hash must be
 * the previous record's hash, and each hash must recompute. It cannot catch someone who rewrites a record and
 * recomputes every later hash, nor a cut-off tail; checkpoints catch those: a checkpoint's (seq, hash) is signed by
 * the HSM's audit key, so a rewritten chain no longer matches it and a chain shorter than a checkpoint is truncated.
 *
 * <p>All reads happen in one REPEATABLE READ snapshot, so records and checkpoints committed while verifying cannot
 * make a consistent chain look broken.
 */
@ApplicationScoped
public class AuditVerifier {

    private static final int FETCH = 2000;

    @Inject
    AgroalDataSource ds;

    @Inject
    HsmPort hsm;

    /**
     * The result. {@code firstBrokenSeq} is the first seq whose stored state contradicts the chain or a signed
     * checkpoint (null when ok); {@code checkpoint} is the latest checkpoint that verified and lies before any break:
     * the last point the trail is vouched for.
     */
    public record Verdict(
            boolean ok,
            long records,
            Long firstBrokenSeq,
            Checkpoints.CheckpointView checkpoint,
            String reason,
            int checkpoints,
            List<AuditKeyStatus> auditKeys) {}

    /** {@code matchesHsm} is null when the HSM could not be asked. */
    public record AuditKeyStatus(String kid, Boolean matchesHsm) {}

    public Verdict verify() {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            c.setReadOnly(true);
            try {
                return verify(c);
            } finally {
                c.rollback();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("audit verification could not read the database", e);
        }
    }

    private Verdict verify(Connection c) throws SQLException {
        Broken broken = new Broken();
        Map<String, PublicKey> keys = new HashMap<>();
        List<AuditKeyStatus> keyStatus = new ArrayList<>();
        for (AuditStore.StoredAuditKey k : AuditStore.auditKeys(c)) {
            JWK jwk = AuditKeys.parse(k.publicJwk());
            PublicKey pub = AuditKeys.publicKey(jwk);
            Boolean matches = matchesHsm(k.partition(), k.handle(), pub);
            if (Boolean.FALSE.equals(matches)) {
                // Someone replaced the stored public key (and could then forge checkpoints): trust nothing signed.
                broken.at(1, "stored audit key " + k.kid() + " is not the HSM's audit key");
            } else if (!jwk.getKeyID().equals(k.kid())) {
                broken.at(1, "stored audit key " + k.kid() + " has a different thumbprint");
            } else {
                keys.put(k.kid(), pub);
            }
            keyStatus.add(new AuditKeyStatus(k.kid(), matches));
        }

        Map<Long, List<StoredCheckpoint>> checkpointsBySeq = new HashMap<>();
        List<StoredCheckpoint> good = new ArrayList<>();
        List<StoredCheckpoint> stored = AuditStore.checkpoints(c);
        int count = stored.size();
        for (StoredCheckpoint cp : stored) {
            if (!signatureValid(cp.view(), keys.get(cp.view().keyId()))) {
                broken.at(
                        cp.view().seq(),
                        "checkpoint " + cp.id() + " (seq " + cp.view().seq()
                                + ") does not carry a valid audit key signature");
                continue;
            }
            checkpointsBySeq
                    .computeIfAbsent(cp.view().seq(), s -> new ArrayList<>())
                    .add(cp);
            good.add(cp);
        }

        Chain chain = new Chain();
        AuditStore.everyRecord(c, FETCH, r -> {
            chain.records++;
            if (broken.seq != null && broken.seq <= chain.expected) {
                return; // only count from here on
            }
            if (r.seq() != chain.expected) {
                broken.at(
                        chain.expected,
                        r.seq() > chain.expected
                                ? "record " + chain.expected + " is missing (the next stored record is " + r.seq() + ")"
                                : "record " + r.seq() + " is out of order");
            } else if (!r.prevHash().equals(chain.prev)) {
                broken.at(r.seq(), "record " + r.seq() + " does not link to the record before it");
            } else if (!r.expectedHash(chain.prev).equals(r.hash())) {
                broken.at(r.seq(), "record " + r.seq() + " does not match its hash");
            } else {
                List<StoredCheckpoint> signed = checkpointsBySeq.getOrDefault(r.seq(), List.of());
                for (StoredCheckpoint cp : signed) {
                    if (!cp.view().hash().equals(r.hash())) {
                        broken.at(
                                r.seq(),
                                "record " + r.seq() + " differs from signed checkpoint " + cp.id()
                                        + ": the chain was rewritten at or before it");
                    }
                }
                if (Checkpoints.ACTION.equals(r.action()) && signed.isEmpty() && broken.seq == null) {
                    broken.at(r.seq(), "record " + r.seq() + " announces a checkpoint that is missing or invalid");
                }
            }
            chain.prev = r.hash();
            chain.expected = r.seq() + 1;
        });
        long records = chain.records;
        long expected = chain.expected;
        long last = expected - 1;
        for (StoredCheckpoint cp : good) {
            if (cp.view().seq() > last) {
                broken.at(
                        last + 1,
                        "the chain ends at " + last + " but checkpoint " + cp.id() + " signs record "
                                + cp.view().seq() + ": records were cut off");
                break;
            }
        }
        if (broken.seq == null) {
            checkMirror(c, last, broken);
        }
        Checkpoints.CheckpointView vouched = null;
        for (StoredCheckpoint cp : good) {
            if (broken.seq == null || cp.view().seq() < broken.seq) {
                vouched = cp.view();
            }
        }
        return new Verdict(broken.seq == null, records, broken.seq, vouched, broken.reason, count, keyStatus);
    }

    private Boolean matchesHsm(String partition, String handle, PublicKey stored) {
        try {
            return Arrays.equals(hsm.publicKey(partition, handle).getEncoded(), stored.getEncoded());
        } catch (HsmException | IllegalArgumentException e) {
            // HSM down or partition not configured here: verification still runs on the stored key.
            return null;
        }
    }

    static boolean signatureValid(Checkpoints.CheckpointView cp, PublicKey key) {
        if (key == null) {
            return false;
        }
        try {
            Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
            s.initVerify(key);
            s.update(Checkpoints.signedBytes(cp));
            return s.verify(Base64.getUrlDecoder().decode(cp.signature()));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The earliest break found; later findings only lower it. */
    @Inject
    dev.keyhold.config.TrustSettings trust;

    /**
     * The latest checkpoint as the HSM recorded it: a chain that ends before it, or holds another record there, was
     * rolled back (records and their checkpoints deleted together, which the stored checkpoints alone cannot show).
     */
    private void checkMirror(Connection c, long last, Broken broken) throws SQLException {
        java.util.Optional<byte[]> m;
        try {
            m = hsm.getData(trust.partition(), Checkpoints.MIRROR);
        } catch (RuntimeException e) {
            return; // the HSM is down: verification still vouches for what the database holds
        }
        if (m.isEmpty()) {
            return;
        }
        String[] v = new String(m.get(), java.nio.charset.StandardCharsets.US_ASCII).split(" ", 2);
        long seq;
        try {
            seq = Long.parseLong(v[0]);
        } catch (NumberFormatException e) {
            broken.at(1, "the HSM's record of the latest checkpoint is unreadable");
            return;
        }
        if (seq > last) {
            broken.at(
                    last + 1,
                    "the chain ends at " + last + " but the HSM recorded a checkpoint of record " + seq
                            + ": the database was rolled back");
            return;
        }
        Optional<String> hash = AuditStore.hashAt(c, seq);
        if (hash.isEmpty() || v.length < 2 || !v[1].equals(hash.get())) {
            broken.at(seq, "record " + seq + " differs from the checkpoint the HSM recorded");
        }
    }

    /** Where the walk along the stored chain has got to. */
    private static final class Chain {
        long records;
        long expected = 1;
        String prev = AuditHash.GENESIS;
    }

    private static final class Broken {
        Long seq;
        String reason;

        void at(long s, String why) {
            if (seq == null || s < seq) {
                seq = s;
                reason = why;
            }
        }
    }
}
