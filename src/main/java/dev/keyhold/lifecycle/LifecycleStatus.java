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

    public record Failure(Instant at, String reason) {
    }

    private final Map<String, Failure> failingIssuers = new ConcurrentHashMap<>();
    private final Map<String, Failure> failingPartitions = new ConcurrentHashMap<>();
    private volatile Instant lastSweepAt;
    private volatile int lastSweepDue;
    private volatile String lastSweepError;
    private volatile Instant lastReconcileAt;
    private volatile Map<String, String> missingKeys = Map.of();
    private volatile int orphansWaiting;

    @Inject
    MeterRegistry metrics;

    @PostConstruct
    void gauges() {
        metrics.gauge("keyhold.scheduler.failing.issuers", failingIssuers, Map::size);
        metrics.gauge("keyhold.hsm.missing.keys", this, s -> s.missingKeys.size());
        metrics.gauge("keyhold.hsm.orphans.waiting", this, s -> s.orphansWaiting);
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

    void reconcileDone(Instant at, Map<String, String> missing, int waiting) {
        lastReconcileAt = at;
        missingKeys = Map.copyOf(missing);
        orphansWaiting = waiting;
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

    public int orphansWaiting() {
        return orphansWaiting;
    }
}
