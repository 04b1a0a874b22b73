package dev.keyhold.lifecycle;

import dev.keyhold.store.IssuerStore;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Keyhold's own scheduler: makes recorded states match the deadlines (SPEC invariant 5 holds at use time without
 * it; this is what moves the rows and announces the changes). Each sweep finds the issuers that have something
 * due with one query on the stored {@code issuer.next_due_at} ({@link NextDue}), then takes one due step per
 * issuer ({@link LifecycleSteps}), each in its own transaction. A failing issuer is recorded and skipped; the others go on.
 *
 * <p>Only one instance sweeps at a time: the sweep holds the session-level PostgreSQL advisory lock
 * {@link #SWEEP_LOCK} on a connection of its own for its whole run; another instance (or thread) that cannot take
 * it skips that sweep. PostgreSQL releases the lock when the session ends, so a crashed sweeper never blocks the
 * others. The per-issuer row lock and the re-check under it keep a step from happening twice even without it.
 */
@ApplicationScoped
public class Sweeper {

    private static final Logger LOG = Logger.getLogger(Sweeper.class);

    /** "KHSCHED" in ASCII. */
    public static final long SWEEP_LOCK = 0x4b485343484544L;

    /** What one sweep did: {@code ran} is false when another sweeper held the lock. */
    public record SweepResult(boolean ran, Map<StepKind, Integer> steps, Map<String, String> failures) {

        public int total() {
            return steps.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    @Inject
    LifecycleSteps steps;

    @Inject
    AgroalDataSource dataSource;

    @Inject
    IssuerStore issuers;

    @Inject
    Clock clock;

    @Inject
    SchedulerConfig config;

    @Inject
    MeterRegistry metrics;

    @Inject
    LifecycleStatus status;

    private Counter sweeps;
    private Timer sweepTime;

    @PostConstruct
    void meters() {
        sweeps = metrics.counter("keyhold.scheduler.sweeps");
        sweepTime = Timer.builder("keyhold.scheduler.sweep")
                .description("Time one sweep took: finding the due issuers and taking their steps")
                .register(metrics);
    }

    @Scheduled(
            identity = "keyhold-sweeper",
            every = "${keyhold.scheduler.interval}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            delayed = "2s")
    void onTimer() {
        if (!config.enabled()) {
            return;
        }
        try {
            sweepOnce();
        } catch (RuntimeException e) {
            // The next tick tries again; the failure is on the health check until then.
            LOG.warnf("sweep failed: %s", e.getMessage());
        }
    }

    /** One sweep over every issuer with something due. */
    public SweepResult sweepOnce() {
        return sweep(null);
    }

    /**
     * One sweep over the given issuers only (all when null). Tests use it on a database shared with other tests;
     * it takes the same lock as a full sweep.
     */
    public SweepResult sweep(Collection<String> onlyIssuers) {
        try (Connection lockSession = dataSource.getConnection()) {
            lockSession.setAutoCommit(true);
            if (!tryLock(lockSession)) {
                return new SweepResult(false, Map.of(), Map.of());
            }
            Timer.Sample took = Timer.start(metrics);
            try {
                return sweepLocked(onlyIssuers);
            } finally {
                took.stop(sweepTime);
                unlock(lockSession);
            }
        } catch (SQLException e) {
            status.sweepFailed(clock.instant(), e.getMessage());
            throw new IllegalStateException("sweep could not reach the database: " + e.getMessage(), e);
        }
    }

    private SweepResult sweepLocked(Collection<String> onlyIssuers) {
        Instant now = clock.instant();
        List<String> due = QuarkusTransaction.requiringNew().call(() -> dueIssuers(now, onlyIssuers));
        Map<StepKind, Integer> taken = new EnumMap<>(StepKind.class);
        Map<String, String> failures = new ConcurrentHashMap<>();
        for (String issuerId : due) {
            try {
                Optional<DueStep> step = steps.takeOne(issuerId);
                step.ifPresent(s -> {
                    taken.merge(s.kind(), 1, Integer::sum);
                    metrics.counter("keyhold.scheduler.steps", "kind", s.kind().tag())
                            .increment();
                });
                status.issuerSucceeded(issuerId);
            } catch (RuntimeException e) {
                String why = e.getClass().getSimpleName() + ": " + e.getMessage();
                failures.put(issuerId, why);
                status.issuerFailed(issuerId, clock.instant(), why);
                metrics.counter("keyhold.scheduler.failures", "issuer", issuerId)
                        .increment();
                LOG.warnf("sweep step for issuer %s failed: %s", issuerId, why);
            }
        }
        sweeps.increment();
        status.sweepDone(clock.instant(), due.size());
        return new SweepResult(true, Map.copyOf(taken), Map.copyOf(failures));
    }

    /**
     * Issuers whose stored next instant ({@link NextDue}) has come; {@link DueStep} then decides, under the issuer
     * lock, which step is due.
     */
    List<String> dueIssuers(Instant now, Collection<String> onlyIssuers) {
        return issuers.dueIssuers(now, onlyIssuers);
    }

    private static boolean tryLock(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select pg_try_advisory_lock(?) as locked")) {
            ps.setLong(1, SWEEP_LOCK);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean("locked");
            }
        }
    }

    private static void unlock(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select pg_advisory_unlock(?)")) {
            ps.setLong(1, SWEEP_LOCK);
            ps.execute();
        }
    }
}
