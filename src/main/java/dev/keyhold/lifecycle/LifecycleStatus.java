package dev.keyhold.lifecycle;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the sweeper and the reconciler last saw, for the health check and the gauges: per-issuer failures (until
 * that issuer's next successful step), keys whose HSM object is missing, orphans waiting for their grace.
 */
@ApplicationScoped
public class LifecycleStatus {

    public record Failure(Instant at, String reason) {}

    private final Map<String, Failure> failingIssuers = new ConcurrentHashMap<>();
    private final Map<String, Failure> failingPartitions = new ConcurrentHashMap<>();
    private volatile Instant lastSweepAt;
    private volatile int lastSweepDue;
    private volatile String lastSweepError;
    private volatile Instant lastReconcileAt;
    private volatile Map<String, String> missingKeys = Map.of();
    private volatile int orphansWaiting;
    private volatile int lastReconcileFinished;
    private final java.util.concurrent.atomic.AtomicLong finishedDeletions =
            new java.util.concurrent.atomic.AtomicLong();

    @Inject
    MeterRegistry metrics;

    @PostConstruct
    void gauges() {
        metrics.gauge("keyhold.scheduler.failing.issuers", failingIssuers, Map::size);
        metrics.gauge("keyhold.hsm.missing.keys", this, s -> s.missingKeys.size());
        metrics.gauge("keyhold.hsm.orphans.waiting", this, s -> s.orphansWaiting);
        metrics.gauge(
                "keyhold.hsm.deletions.finished.by.reconciler",
                finishedDeletions,
                java.util.concurrent.atomic.AtomicLong::get);
    }

    void issuerFailed(String issuerId, Instant at, String reason) {
        failingIssuers.put(issuerId, new Failure(at, reason));
    }

    void issuerSucceeded(String issuerId) {
        failingIssuers.remove(issuerId);
    }

    void sweepDone(Instant at, int due) {
        lastSweepAt = at;
        lastSweepDue = due;
        lastSweepError = null;
    }

    void sweepFailed(Instant at, String reason) {
        lastSweepError = at + " " + reason;
    }

    void partitionFailed(String partition, Instant at, String reason) {
        failingPartitions.put(partition, new Failure(at, reason));
    }

    void reconciled(String partition) {
        failingPartitions.remove(partition);
    }

    void reconcileDone(Instant at, Map<String, String> missing, int waiting, int finished) {
        lastReconcileAt = at;
        lastReconcileFinished = finished;
        if (finished > 0) {
            finishedDeletions.addAndGet(finished);
        }
        missingKeys = Map.copyOf(missing);
        orphansWaiting = waiting;
    }

    /** One key found missing between reconciliations (signing hit it); the next reconciliation replaces the list. */
    synchronized void keyMissing(String kid, String where) {
        Map<String, String> m = new java.util.HashMap<>(missingKeys);
        m.put(kid, where);
        missingKeys = Map.copyOf(m);
    }

    public Map<String, Failure> failingIssuers() {
        return new TreeMap<>(failingIssuers);
    }

    public Map<String, Failure> failingPartitions() {
        return new TreeMap<>(failingPartitions);
    }

    /** kid → "partition/handle" of non-destroyed keys whose HSM object was missing at the last reconciliation. */
    public Map<String, String> missingKeys() {
        return new TreeMap<>(missingKeys);
    }

    public Instant lastSweepAt() {
        return lastSweepAt;
    }

    public int lastSweepDue() {
        return lastSweepDue;
    }

    public String lastSweepError() {
        return lastSweepError;
    }

    public Instant lastReconcileAt() {
        return lastReconcileAt;
    }

    /**
     * HSM deletions (private key objects of keys that can no longer sign, remains of destroyed keys) that the last
     * reconciliation had to finish after an interrupted retirement, revocation or destruction.
     */
    public int lastReconcileFinished() {
        return lastReconcileFinished;
    }

    /** The same, counted since this process started. */
    public long finishedDeletions() {
        return finishedDeletions.get();
    }

    public int orphansWaiting() {
        return orphansWaiting;
    }
}
