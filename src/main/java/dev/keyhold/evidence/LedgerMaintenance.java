package dev.keyhold.evidence;

import dev.keyhold.audit.AuditKeys;
import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.config.NodeName;
import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.HsmPort;
import io.agroal.api.AgroalDataSource;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * The ledger's upkeep: HSM-signed checkpoints of its head (by the audit key, like the audit trail's), daily
 * partitions made ahead of time, and partitions past the retention period dropped. Each is recorded in the audit
 * trail ({@code ledger.checkpointed}, {@code ledger.pruned}), so the audit chain also anchors the ledger's head.
 */
@ApplicationScoped
public class LedgerMaintenance {

    public static final String SYSTEM_ACTOR = "keyhold";
    private static final Logger LOG = Logger.getLogger(LedgerMaintenance.class);

    @Inject
    AgroalDataSource ds;

    @Inject
    AuditKeys auditKeys;

    @Inject
    HsmPort hsm;

    @Inject
    ChangeRecorder recorder;

    @Inject
    Clock clock;

    @Inject
    NodeName node;

    @Inject
    EvidenceConfig config;

    @Inject
    Ledger ledger;

    /** A ledger checkpoint: the audit key's ES256 signature (base64url R‖S) over {@link LedgerHash#checkpointBytes}. */
    public record LedgerCheckpoint(long seq, String hash, Instant time, String node, String keyId, String signature) {}

    @Scheduled(
            every = "${keyhold.evidence.ledger.checkpoint-interval:PT1M}",
            delayed = "10s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void periodic() {
        if (!config.ledger().maintenance()) {
            return;
        }
        try {
            ensureAhead();
            prune(SYSTEM_ACTOR);
            if (headMoved()) {
                checkpoint(SYSTEM_ACTOR);
            }
        } catch (RuntimeException | SQLException e) {
            LOG.warnf("ledger maintenance failed: %s", e.getMessage());
        }
    }

    /** Today's and the next two days' partitions, so the writer rarely makes one itself. */
    public void ensureAhead() throws SQLException {
        LocalDate today = LedgerPartitions.dayOf(clock.instant());
        try (Connection c = ds.getConnection()) {
            for (int d = 0; d < 3; d++) {
                ledger.partitions().ensure(c, today.plusDays(d));
            }
        }
    }

    /** Signs the ledger head; empty when nothing was ever recorded. Blocking: HSM and database. */
    public Optional<LedgerCheckpoint> checkpoint(String actor) {
        AuditKeys.AuditKey key = auditKeys.ensure();
        return QuarkusTransaction.requiringNew().call(() -> {
            long seq;
            String hash;
            try (Connection c = ds.getConnection();
                    PreparedStatement ps =
                            c.prepareStatement("select seq, hash from ledger_head where id = 1 for share");
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                seq = rs.getLong(1);
                hash = rs.getString(2);
            }
            if (seq == 0) {
                return Optional.<LedgerCheckpoint>empty();
            }
            Instant at = clock.instant();
            byte[] sig = hsm.sign(
                    key.partition(),
                    key.handle(),
                    SigningAlgorithm.ES256,
                    LedgerHash.checkpointBytes(seq, hash, at, node.get(), key.kid()));
            LedgerCheckpoint cp = new LedgerCheckpoint(
                    seq,
                    hash,
                    at,
                    node.get(),
                    key.kid(),
                    Base64.getUrlEncoder().withoutPadding().encodeToString(sig));
            try (Connection c = ds.getConnection();
                    PreparedStatement ps =
                            c.prepareStatement("insert into ledger_checkpoint (seq, hash, signed_at, node,"
                                    + " key_id, signature, requested_by) values (?, ?, ?, ?, ?, ?, ?)")) {
                ps.setLong(1, cp.seq());
                ps.setString(2, cp.hash());
                ps.setObject(3, OffsetDateTime.ofInstant(cp.time(), ZoneOffset.UTC));
                ps.setString(4, cp.node());
                ps.setString(5, cp.keyId());
                ps.setString(6, cp.signature());
                ps.setString(7, actor);
                ps.executeUpdate();
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("seq", seq);
            details.put("hash", hash);
            details.put("keyId", key.kid());
            recorder.record(Change.auditOnly("ledger.checkpointed", actor, Change.SUCCESS, null, null, details));
            return Optional.of(cp);
        });
    }

    /**
     * Drops the days wholly older than the retention period, in one transaction with the audit record and the new
     * coverage start (tokens issued before it can no longer be judged). Returns the days dropped.
     */
    public List<LocalDate> prune(String actor) {
        LocalDate firstKept =
                LedgerPartitions.dayOf(clock.instant().minus(config.ledger().retention()));
        LedgerPartitions partitions = ledger.partitions();
        return QuarkusTransaction.requiringNew().call(() -> {
            List<LocalDate> dropped;
            try (Connection c = ds.getConnection()) {
                // The tables in the order the writer's one statement takes them: it locks both parents when it starts
                // and then waits for the head row, and dropping a partition locks its parent exclusively; taking the
                // head first would deadlock with a writer between the two.
                try (PreparedStatement ps =
                        c.prepareStatement("lock table ledger_batch, ledger_token" + " in access exclusive mode")) {
                    ps.execute();
                }
                try (PreparedStatement ps = c.prepareStatement("select 1 from ledger_head where id = 1 for update")) {
                    ps.executeQuery().close();
                }
                dropped = partitions.dropBefore(c, firstKept);
                if (dropped.isEmpty()) {
                    return dropped;
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "update ledger_head set covered_from =" + " greatest(covered_from, ?) where id = 1")) {
                    ps.setObject(1, firstKept.atStartOfDay().atOffset(ZoneOffset.UTC));
                    ps.executeUpdate();
                }
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("days", dropped.stream().map(LocalDate::toString).toList());
            details.put("retention", config.ledger().retention().toString());
            recorder.record(Change.auditOnly("ledger.pruned", actor, Change.SUCCESS, null, null, details));
            return dropped;
        });
    }

    boolean headMoved() {
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement("select (select seq from ledger_head where id = 1),"
                        + " (select coalesce(max(seq), 0) from ledger_checkpoint)");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1) > rs.getLong(2);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the ledger head", e);
        }
    }
}
