package dev.keyhold.audit;

import com.nimbusds.jose.jwk.JWK;
import dev.keyhold.hsm.HsmException;
import dev.keyhold.hsm.HsmPort;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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

    private record StoredCheckpoint(long id, Checkpoints.CheckpointView view) {}

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
        try (PreparedStatement ps =
                        c.prepareStatement("select kid, partition_name, hsm_handle, public_jwk from audit_key");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                JWK jwk = AuditKeys.parse(rs.getString(4));
                PublicKey pub = AuditKeys.publicKey(jwk);
                Boolean matches = matchesHsm(rs.getString(2), rs.getString(3), pub);
                if (Boolean.FALSE.equals(matches)) {
                    // Someone replaced the stored public key (and could then forge checkpoints): trust nothing signed.
                    broken.at(1, "stored audit key " + rs.getString(1) + " is not the HSM's audit key");
                } else if (!jwk.getKeyID().equals(rs.getString(1))) {
                    broken.at(1, "stored audit key " + rs.getString(1) + " has a different thumbprint");
                } else {
                    keys.put(rs.getString(1), pub);
                }
                keyStatus.add(new AuditKeyStatus(rs.getString(1), matches));
            }
        }

        Map<Long, List<StoredCheckpoint>> checkpointsBySeq = new HashMap<>();
        List<StoredCheckpoint> good = new ArrayList<>();
        int count = 0;
        try (PreparedStatement ps = c.prepareStatement("select id, seq, hash, signed_at, node, key_id, signature"
                        + " from audit_checkpoint order by seq, id");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                count++;
                StoredCheckpoint cp = new StoredCheckpoint(
                        rs.getLong(1),
                        new Checkpoints.CheckpointView(
                                rs.getLong(2),
                                rs.getString(3),
                                rs.getObject(4, OffsetDateTime.class).toInstant(),
                                rs.getString(5),
                                rs.getString(6),
                                rs.getString(7)));
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
        }

        long records = 0;
        long expected = 1;
        String prev = AuditHash.GENESIS;
        try (PreparedStatement ps =
                c.prepareStatement("select " + AuditRow.COLUMNS + " from audit_record order by seq")) {
            ps.setFetchSize(FETCH);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    records++;
                    if (broken.seq != null && broken.seq <= expected) {
                        continue; // only count from here on
                    }
                    AuditRow r = AuditRow.read(rs);
                    if (r.seq() != expected) {
                        broken.at(
                                expected,
                                r.seq() > expected
                                        ? "record " + expected + " is missing (the next stored record is " + r.seq()
                                                + ")"
                                        : "record " + r.seq() + " is out of order");
                    } else if (!r.prevHash().equals(prev)) {
                        broken.at(r.seq(), "record " + r.seq() + " does not link to the record before it");
                    } else if (!r.expectedHash(prev).equals(r.hash())) {
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
                            broken.at(
                                    r.seq(),
                                    "record " + r.seq() + " announces a checkpoint that is missing or invalid");
                        }
                    }
                    prev = r.hash();
                    expected = r.seq() + 1;
                }
            }
        }
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
        try (PreparedStatement ps = c.prepareStatement("select hash from audit_record where seq = ?")) {
            ps.setLong(1, seq);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || v.length < 2 || !v[1].equals(rs.getString(1))) {
                    broken.at(seq, "record " + seq + " differs from the checkpoint the HSM recorded");
                }
            }
        }
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
