package dev.keyhold.relay;

import dev.keyhold.audit.OutboxStore;
import dev.keyhold.audit.RecordedChange;
import dev.keyhold.config.NodeName;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import jakarta.inject.Inject;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Relays the outbox to Kafka when {@code keyhold.bus.kafka.bootstrap-servers} is set. Every instance runs a
 * {@link RelayRun}; the database lock lets one of them send at a time. This instance's own commits wake it at
 * once; changes from other instances are found by polling.
 */
@ApplicationScoped
public class OutboxRelay {

    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);

    @Inject
    BusConfig config;

    @Inject
    AgroalDataSource ds;

    @Inject
    OutboxStore outbox;

    @Inject
    Clock clock;

    @Inject
    MeterRegistry meters;

    @Inject
    NodeName node;

    private static final long LAG_COUNT_CAP = 1_000_000;
    private static final int LAG_QUERY_TIMEOUT_SECONDS = 5;
    private static final long LAG_REUSE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

    private volatile RelayRun run;
    private volatile RelayLag lastLag;
    private volatile long lastLagAt;

    public boolean enabled() {
        return config.kafka().bootstrapServers().filter(s -> !s.isBlank()).isPresent();
    }

    void onStart(@Observes StartupEvent e) {
        if (!enabled()) {
            return;
        }
        // Measured when read, from the outbox and the committed position, whatever the relay is doing: a delivery
        // attempt can block for the whole delivery timeout, and the lag must show during it.
        Gauge.builder(
                        "keyhold.relay.lag.events",
                        this,
                        r -> lag().map(l -> (double) l.events()).orElse(Double.NaN))
                .description("Outbox events not yet relayed to Kafka")
                .tag("topic", config.kafka().topic())
                .register(meters);
        Gauge.builder(
                        "keyhold.relay.lag.seconds",
                        this,
                        r -> lag().map(l -> l.seconds(clock.instant())).orElse(Double.NaN))
                .description("Age of the oldest outbox event not yet relayed to Kafka")
                .tag("topic", config.kafka().topic())
                .register(meters);
        start();
        LOG.infof("relaying the outbox to Kafka topic %s", config.kafka().topic());
    }

    void onStop(@Observes ShutdownEvent e) {
        stop();
    }

    void onCommitted(@Observes(during = TransactionPhase.AFTER_SUCCESS) RecordedChange change) {
        RelayRun r = run;
        if (r != null) {
            r.wake();
        }
    }

    /** Starts relaying from the stored position (a fresh producer; nothing kept from an earlier run). */
    public synchronized void start() {
        if (!enabled() || run != null) {
            return;
        }
        RelayRun r = new RelayRun("keyhold-relay-" + node.get(), ds, config.kafka(), clock, meters);
        r.start();
        run = r;
    }

    public synchronized void stop() {
        RelayRun r = run;
        run = null;
        if (r != null) {
            r.stop();
        }
    }

    /**
     * The lag now: events after the committed position and the oldest one's time, read from the database (two index
     * range reads, the count capped), reused for a second so a scrape and a health probe do not each pay for it.
     * Empty when the relay is off or the database does not answer.
     */
    public Optional<RelayLag> lag() {
        if (!enabled()) {
            return Optional.empty();
        }
        RelayLag l = lastLag;
        long now = System.nanoTime();
        if (l != null && now - lastLagAt < LAG_REUSE_NANOS) {
            return Optional.of(l);
        }
        try {
            OutboxStore.Lag stored =
                    outbox.lag(RelayRun.positionName(config.kafka().topic()), LAG_COUNT_CAP, LAG_QUERY_TIMEOUT_SECONDS);
            l = new RelayLag(stored.position(), stored.events(), stored.oldest());
        } catch (SQLException | RuntimeException e) {
            LOG.debugf("relay lag not measurable: %s", e.getMessage());
            return Optional.empty();
        }
        lastLag = l;
        lastLagAt = now;
        return Optional.of(l);
    }

    /** The committed position, the events after it (at most {@code LAG_COUNT_CAP}) and the oldest one's time. */
    public record RelayLag(long position, long events, Instant oldest) {
        public double seconds(Instant now) {
            return oldest == null
                    ? 0
                    : Math.max(0, Duration.between(oldest, now).toMillis() / 1000.0);
        }
    }

    /** The running relay, if any. */
    public Optional<RelayRun> current() {
        return Optional.ofNullable(run);
    }
}
