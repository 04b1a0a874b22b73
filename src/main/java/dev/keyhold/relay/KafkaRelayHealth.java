package dev.keyhold.relay;

import io.smallrye.health.api.HealthGroup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

/**
 * The relay's state under readiness, always UP: a broker outage must not take instances out of the load
 * balancer, since every state change still commits to the outbox and is relayed when the broker returns, and the
 * JWKS and the HTTP event feed keep working. Alert on the data (lagSeconds, lastError) or on the
 * {@code keyhold_relay_lag_seconds} metric instead.
 */
@HealthGroup("relay")
@HealthGroup("operations")
@ApplicationScoped
public class KafkaRelayHealth implements HealthCheck {

    @Inject
    OutboxRelay relay;

    @Inject
    BusConfig config;

    @Inject
    Clock clock;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("kafka-relay").up();
        if (!relay.enabled()) {
            return b.withData("enabled", false).build();
        }
        b.withData("enabled", true).withData("topic", config.kafka().topic());
        relay.current()
                .ifPresentOrElse(
                        r -> {
                            RelayStatus s = r.status();
                            b.withData(
                                    "state",
                                    s.failing()
                                            ? "retrying"
                                            : s.starting() ? "starting" : s.relaying() ? "relaying" : "standby");
                            java.time.Instant since = s.attemptSince();
                            if (since != null && since.isBefore(clock.instant().minusSeconds(1))) {
                                // an attempt blocked on the broker (up to the delivery timeout): say so before it fails
                                b.withData("attemptSeconds", clock.instant().getEpochSecond() - since.getEpochSecond());
                            }
                            if (s.lastError() != null) {
                                b.withData("lastError", s.lastError())
                                        .withData("lastErrorAt", s.lastErrorAt().toString());
                            }
                        },
                        () -> b.withData("state", "stopped"));
        // The lag is read now from the database, not taken from the relay's last step.
        relay.lag()
                .ifPresentOrElse(
                        l -> b.withData("lagEvents", l.events())
                                .withData(
                                        "lagSeconds",
                                        String.format(java.util.Locale.ROOT, "%.3f", l.seconds(clock.instant())))
                                .withData("position", l.position()),
                        () -> b.withData("lagEvents", "unknown"));
        return b.build();
    }
}
