package dev.keyhold.evidence;

import dev.keyhold.audit.AuditKeys;
import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.config.NodeName;
import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.HsmPort;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
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
    LedgerStore store;

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
        store.ensurePartitions(ledger.partitions(), List.of(today, today.plusDays(1), today.plusDays(2)));
    }

    /** Signs the ledger head; empty when nothing was ever recorded. Blocking: HSM and database. */
    public Optional<LedgerCheckpoint> checkpoint(String actor) {
        AuditKeys.AuditKey key = auditKeys.ensure();
        return QuarkusTransaction.requiringNew().call(() -> {
            LedgerStore.Head head = store.sharedHead();
            long seq = head.seq();
            String hash = head.hash();
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
            store.insertCheckpoint(cp, actor);
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
            List<LocalDate> dropped = store.dropDaysBefore(partitions, firstKept);
            if (dropped.isEmpty()) {
                return dropped;
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("days", dropped.stream().map(LocalDate::toString).toList());
            details.put("retention", config.ledger().retention().toString());
            recorder.record(Change.auditOnly("ledger.pruned", actor, Change.SUCCESS, null, null, details));
            return dropped;
        });
    }

    boolean headMoved() {
        return store.headAheadOfCheckpoints();
    }
}
