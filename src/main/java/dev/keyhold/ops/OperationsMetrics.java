package dev.keyhold.ops;

import dev.keyhold.audit.AuditStore;
import dev.keyhold.canary.CanaryReport;
import dev.keyhold.canary.CanaryRunner;
import dev.keyhold.evidence.LedgerStore;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.store.IssuerStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.prometheus.client.Collector;
import io.prometheus.client.GaugeMetricFamily;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.Startup;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * The gauges that alerts need (docs/operations-alerts.md), read from an in-memory view: a scrape never queries the
 * database or the HSM. {@link #refresh()} rebuilds the view with a fixed number of aggregate queries (not one per
 * issuer) every {@code keyhold.metrics.refresh-interval}; each gauge then computes "seconds until" or "seconds
 * since" from the cached instants and the clock at scrape time, so the values move between refreshes.
 *
 * <p>Per issuer (label {@code issuer} only; kids and principals never become labels):
 * {@code keyhold_issuer_active_key_expiry_seconds} (ACTIVE key's notAfter minus now; NaN without an ACTIVE key),
 * {@code keyhold_issuer_rotation_due_seconds} (rotation due minus now; negative when overdue),
 * {@code keyhold_issuer_active_key} (1 while the issuer has an ACTIVE key),
 * {@code keyhold_issuer_successor_pending} (1 while a PENDING key exists),
 * {@code keyhold_issuer_successor_approved} (1 while that PENDING key's activation request is APPROVED),
 * {@code keyhold_issuer_suspended} (1 while the kill switch is pulled),
 * {@code keyhold_issuer_activation_requests_open} (open requests of any kind) and
 * {@code keyhold_issuer_activation_request_expiry_seconds} (earliest open request's expiresAt minus now; NaN
 * when none). Global: {@code keyhold_audit_checkpoint_age_seconds}, {@code keyhold_audit_uncheckpointed_seconds}
 * (age of the oldest audit record no checkpoint covers; 0 when the head is covered), the same two for the ledger,
 * {@code keyhold_hsm_partition_up{partition}}, {@code keyhold_canary_passing} and
 * {@code keyhold_canary_last_run_age_seconds}, {@code keyhold_ops_view_age_seconds} (how old this view is).
 *
 * <p>The per-issuer series are not Micrometer meters: at 100,000 issuers, eight gauges each cost about 400 MB of
 * meters and half a minute to register. A Prometheus collector writes them at scrape time straight from the view
 * (one map entry per issuer).
 */
@Startup
@ApplicationScoped
public class OperationsMetrics {

    private static final Logger LOG = Logger.getLogger(OperationsMetrics.class);

    /** What the last refresh saw of one issuer; replaced as a whole. */
    record IssuerState(
            boolean suspended,
            Instant activeNotAfter,
            Instant rotationDue,
            boolean pending,
            boolean successorApproved,
            int openRequests,
            Instant earliestRequestExpiry) {}

    /** Global part of the view. */
    record GlobalState(
            Instant auditCheckpointAt,
            Instant auditUncoveredSince,
            Instant ledgerCheckpointAt,
            Instant ledgerUncoveredSince,
            Instant refreshedAt) {}

    @Inject
    EntityManager em;

    @Inject
    IssuerStore issuerRows;

    @Inject
    AuditStore auditRows;

    @Inject
    LedgerStore ledgerRows;

    @Inject
    MeterRegistry registry;

    @Inject
    Clock clock;

    @Inject
    HsmPort hsm;

    @Inject
    CanaryRunner canaries;

    @Inject
    MetricsConfig config;
    /** The registry behind /q/metrics (its CollectorRegistry: the producer of that type is not a singleton). */
    @Inject
    PrometheusMeterRegistry prometheus;

    private volatile Map<String, IssuerState> issuers = Map.of();
    private final Map<String, Double> partitionsUp = new ConcurrentHashMap<>();
    private volatile GlobalState global = new GlobalState(null, null, null, null, null);

    @PostConstruct
    void globalGauges() {
        // The view's age counts from start, so a refresh that never succeeds shows (KeyholdOperationsViewStale).
        global = new GlobalState(null, null, null, null, clock.instant());
        prometheus.getPrometheusRegistry().register(new IssuerCollector());
        Gauge.builder("keyhold.audit.checkpoint.age", this, m -> since(m.global.auditCheckpointAt()))
                .description("seconds since the latest audit checkpoint was signed (NaN before the first)")
                .baseUnit("seconds")
                .register(registry);
        Gauge.builder("keyhold.audit.uncheckpointed", this, m -> uncovered(m.global.auditUncoveredSince()))
                .description(
                        "age of the oldest audit record that no checkpoint covers yet (0 when the head is covered)")
                .baseUnit("seconds")
                .register(registry);
        Gauge.builder("keyhold.ledger.checkpoint.age", this, m -> since(m.global.ledgerCheckpointAt()))
                .description("seconds since the latest issuance-ledger checkpoint was signed (NaN before the first)")
                .baseUnit("seconds")
                .register(registry);
        Gauge.builder("keyhold.ledger.uncheckpointed", this, m -> uncovered(m.global.ledgerUncoveredSince()))
                .description(
                        "age of the oldest ledger batch that no checkpoint covers yet (0 when the head is covered)")
                .baseUnit("seconds")
                .register(registry);
        Gauge.builder("keyhold.ops.view.age", this, m -> since(m.global.refreshedAt()))
                .description("age of the in-memory view the keyhold_issuer_* gauges read")
                .baseUnit("seconds")
                .register(registry);
        Gauge.builder(
                        "keyhold.canary.passing",
                        this,
                        m -> m.canaries.last().map(r -> r.passed() ? 1.0 : 0.0).orElse(Double.NaN))
                .description("1 when the latest forged-token canary run passed, 0 when it failed, NaN before the first")
                .register(registry);
        Gauge.builder(
                        "keyhold.canary.last.run.age",
                        this,
                        m -> since(m.canaries.last().map(CanaryReport::at).orElse(null)))
                .description("seconds since the latest canary run")
                .baseUnit("seconds")
                .register(registry);
    }

    @Scheduled(
            identity = "keyhold-ops-metrics",
            every = "${keyhold.metrics.refresh-interval:30s}",
            delayed = "5s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        if (!config.enabled()) {
            return;
        }
        try {
            refresh();
        } catch (RuntimeException e) {
            // keyhold_ops_view_age_seconds keeps growing until a refresh succeeds; alerts watch it.
            LOG.warnf("operations metrics refresh failed: %s", e.getMessage());
        }
    }

    /** Rebuilds the view: a handful of aggregate queries and one liveness probe per HSM partition. */
    public void refresh() {
        Instant now = clock.instant();
        Map<String, IssuerState> states = QuarkusTransaction.requiringNew().call(this::readIssuers);
        GlobalState g = QuarkusTransaction.requiringNew().call(() -> readGlobal(now));
        issuers = Map.copyOf(states);
        for (String p : Set.copyOf(hsm.partitions())) {
            double up;
            try {
                hsm.check(p);
                up = 1.0;
            } catch (RuntimeException e) {
                up = 0.0;
            }
            if (partitionsUp.put(p, up) == null) {
                Gauge.builder("keyhold.hsm.partition.up", partitionsUp, m -> m.getOrDefault(p, Double.NaN))
                        .description("1 when the HSM partition answered the latest probe of the operations view")
                        .tag("partition", p)
                        .register(registry);
            }
        }
        global = g;
    }

    /** The per-issuer series, written at scrape time from the view. */
    final class IssuerCollector extends Collector {
        @Override
        public List<MetricFamilySamples> collect() {
            Map<String, IssuerState> view = issuers;
            List<String> label = List.of("issuer");
            GaugeMetricFamily expiry = new GaugeMetricFamily(
                    "keyhold_issuer_active_key_expiry_seconds",
                    "seconds until the ACTIVE key's notAfter (NaN without an ACTIVE key)",
                    label);
            GaugeMetricFamily due = new GaugeMetricFamily(
                    "keyhold_issuer_rotation_due_seconds",
                    "seconds until the ACTIVE key's rotation is due; negative when overdue",
                    label);
            GaugeMetricFamily active =
                    new GaugeMetricFamily("keyhold_issuer_active_key", "1 while the issuer has an ACTIVE key", label);
            GaugeMetricFamily pending = new GaugeMetricFamily(
                    "keyhold_issuer_successor_pending", "1 while a PENDING successor key exists", label);
            GaugeMetricFamily approved = new GaugeMetricFamily(
                    "keyhold_issuer_successor_approved",
                    "1 while the PENDING successor's activation request is APPROVED (it activates at activatableAt)",
                    label);
            GaugeMetricFamily suspended = new GaugeMetricFamily(
                    "keyhold_issuer_suspended", "1 while the issuer's kill switch is pulled", label);
            GaugeMetricFamily open = new GaugeMetricFamily(
                    "keyhold_issuer_activation_requests_open",
                    "open activation requests (any kind) awaiting custodian decisions",
                    label);
            GaugeMetricFamily requestExpiry = new GaugeMetricFamily(
                    "keyhold_issuer_activation_request_expiry_seconds",
                    "seconds until the earliest open activation request expires (NaN when none is open)",
                    label);
            for (Map.Entry<String, IssuerState> e : view.entrySet()) {
                List<String> id = List.of(e.getKey());
                IssuerState x = e.getValue();
                expiry.addMetric(id, until(x.activeNotAfter()));
                due.addMetric(id, until(x.rotationDue()));
                active.addMetric(id, x.activeNotAfter() == null ? 0.0 : 1.0);
                pending.addMetric(id, x.pending() ? 1.0 : 0.0);
                approved.addMetric(id, x.successorApproved() ? 1.0 : 0.0);
                suspended.addMetric(id, x.suspended() ? 1.0 : 0.0);
                open.addMetric(id, x.openRequests());
                requestExpiry.addMetric(id, until(x.earliestRequestExpiry()));
            }
            List<MetricFamilySamples> out = new ArrayList<>(8);
            out.add(expiry);
            out.add(due);
            out.add(active);
            out.add(pending);
            out.add(approved);
            out.add(suspended);
            out.add(open);
            out.add(requestExpiry);
            return out;
        }
    }

    private Map<String, IssuerState> readIssuers() {
        List<IssuerStore.IssuerOverview> rows = issuerRows.overview();
        Map<String, IssuerStore.OpenRequests> open = issuerRows.openRequests();
        Map<String, IssuerState> out = new HashMap<>(rows.size() * 2);
        for (IssuerStore.IssuerOverview r : rows) {
            Instant activatedAt = r.activeActivatedAt();
            Instant rotationDue = activatedAt == null ? null : activatedAt.plusSeconds(r.rotationPeriodSeconds());
            IssuerStore.OpenRequests o = open.get(r.issuerId());
            out.put(
                    r.issuerId(),
                    new IssuerState(
                            "SUSPENDED".equals(r.status()),
                            r.activeNotAfter(),
                            rotationDue,
                            r.pendingKid() != null,
                            "APPROVED".equals(r.pendingRequestState()),
                            o == null ? 0 : o.count(),
                            o == null ? null : o.earliestExpiry()));
        }
        return out;
    }

    private GlobalState readGlobal(Instant now) {
        AuditStore.CheckpointCoverage a = auditRows.checkpointCoverage();
        LedgerStore.CheckpointLag l = ledgerRows.checkpointLag();
        return new GlobalState(
                a.newestCheckpointAt(),
                a.oldestUncheckpointedAt(),
                l.newestCheckpointAt(),
                l.oldestUncheckpointedBatchAt(),
                now);
    }

    private double until(Instant t) {
        return t == null ? Double.NaN : (t.toEpochMilli() - clock.millis()) / 1000.0;
    }

    private double since(Instant t) {
        return t == null ? Double.NaN : (clock.millis() - t.toEpochMilli()) / 1000.0;
    }

    private double uncovered(Instant oldest) {
        return oldest == null ? 0.0 : Math.max(0.0, since(oldest));
    }

    private static Instant instant(Object o) {
        if (o == null) {
            return null;
        }
        if (o instanceof Timestamp t) {
            return t.toInstant();
        }
        if (o instanceof OffsetDateTime t) {
            return t.toInstant();
        }
        if (o instanceof Instant t) {
            return t;
        }
        throw new IllegalStateException("not a time: " + o.getClass());
    }
}
