package dev.keyhold.relay;

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
import org.jboss.logging.Logger;

import java.time.Clock;
import java.util.Optional;

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
    Clock clock;
    @Inject
    MeterRegistry meters;
    @Inject
    NodeName node;

    private volatile RelayRun run;

    public boolean enabled() {
        return config.kafka().bootstrapServers().filter(s -> !s.isBlank()).isPresent();
    }

    void onStart(@Observes StartupEvent e) {
        if (!enabled()) {
            return;
        }
        Gauge.builder("keyhold.relay.lag.events", this, r -> current().map(x -> (double) x.status().lagEvents()).orElse(0.0))
                .description("Outbox events not yet relayed to Kafka").tag("topic", config.kafka().topic()).register(meters);
        Gauge.builder("keyhold.relay.lag.seconds", this,
                        r -> current().map(x -> x.status().lagSeconds(clock.instant())).orElse(0.0))
                .description("Age of the oldest outbox event not yet relayed to Kafka").tag("topic", config.kafka().topic())
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

    /** The running relay, if any. */
    public Optional<RelayRun> current() {
        return Optional.ofNullable(run);
    }
}
