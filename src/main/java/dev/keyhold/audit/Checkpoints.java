package dev.keyhold.audit;

import dev.keyhold.config.NodeName;
import dev.keyhold.hsm.HsmPort;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Signed checkpoints of the audit chain head. A checkpoint is itself recorded: it first appends an
 * {@code audit.checkpointed} record, then signs the head, which is that very record, in the same transaction (the
 * chain lock is still held, so nothing can slip in between). So every checkpoint covers its own audit record, the
 * record names who asked, and a deleted checkpoint row is noticed because its record remains. The periodic job signs
 * only when the head moved since the last checkpoint, so an idle chain does not grow.
 */
@ApplicationScoped
public class Checkpoints {

    public static final String ACTION = "audit.checkpointed";
    static final String SYSTEM_ACTOR = "keyhold";
    private static final Logger LOG = Logger.getLogger(Checkpoints.class);

    @Inject
    AuditKeys keys;

    @Inject
    HsmPort hsm;

    @Inject
    ChangeRecorder recorder;

    @Inject
    AuditStore store;

    @Inject
    Clock clock;

    @Inject
    NodeName node;

    /** A checkpoint as verification reports it; the signature is base64url R‖S over {@link #signedBytes}. */
    public record CheckpointView(long seq, String hash, Instant time, String node, String keyId, String signature) {}

    /** Label of the HSM data object (trust partition) that mirrors the latest checkpoint: {@code "<seq> <hash>"}. */
    public static final String MIRROR = "keyhold-audit-checkpoint";

    @Inject
    dev.keyhold.config.TrustSettings trust;

    /** Signs the current head (after recording the checkpoint itself). Blocking: touches the HSM and the database. */
    public CheckpointView create(String actor) {
        CheckpointView c = createRow(actor);
        mirror(c);
        return c;
    }

    /**
     * Mirrors the checkpoint in the HSM after its commit, so a database rolled back to before it (records and
     * checkpoints deleted together) is caught by verification. Never moves the mirror backwards.
     */
    void mirror(CheckpointView c) {
        try {
            java.util.Optional<byte[]> current = hsm.getData(trust.partition(), MIRROR);
            if (current.isPresent()) {
                String[] m = new String(current.get(), java.nio.charset.StandardCharsets.US_ASCII).split(" ", 2);
                if (Long.parseLong(m[0]) >= c.seq()) {
                    return;
                }
            }
            hsm.putData(
                    trust.partition(),
                    MIRROR,
                    (c.seq() + " " + c.hash()).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        } catch (RuntimeException e) {
            LOG.warnf("audit checkpoint %d not mirrored in the HSM: %s", c.seq(), e.toString());
        }
    }

    private CheckpointView createRow(String actor) {
        AuditKeys.AuditKey key = keys.ensure();
        return QuarkusTransaction.requiringNew().call(() -> {
            long seq = recorder.record(
                    Change.auditOnly(ACTION, actor, Change.SUCCESS, null, null, Map.of("keyId", key.kid())));
            String hash = store.hashAt(seq);
            CheckpointView unsigned = new CheckpointView(seq, hash, clock.instant(), node.get(), key.kid(), null);
            byte[] sig = hsm.sign(key.partition(), key.handle(), AuditKeys.ALG, signedBytes(unsigned));
            CheckpointView c = new CheckpointView(
                    seq,
                    hash,
                    unsigned.time(),
                    unsigned.node(),
                    key.kid(),
                    Base64.getUrlEncoder().withoutPadding().encodeToString(sig));
            store.insertCheckpoint(c, actor);
            return c;
        });
    }

    @Scheduled(
            every = "${keyhold.audit.checkpoint-interval:PT5M}",
            delayed = "${keyhold.audit.checkpoint-interval:PT5M}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void periodic() {
        try {
            if (headMoved()) {
                create(SYSTEM_ACTOR);
            }
        } catch (RuntimeException e) {
            // The next period tries again; until then verification vouches up to the last checkpoint.
            LOG.warnf("periodic audit checkpoint failed: %s", e.getMessage());
        }
    }

    boolean headMoved() {
        return QuarkusTransaction.requiringNew().call(() -> {
            AuditStore.ChainProgress p = store.progress();
            return p.headSeq() > p.checkpointedSeq();
        });
    }

    /** What is signed: canonical JSON {"hash","keyId","node","seq","time"}, rebuilt from the stored columns. */
    static byte[] signedBytes(CheckpointView c) {
        return AuditHash.checkpointBytes(c.seq(), c.hash(), c.time(), c.node(), c.keyId());
    }
}
