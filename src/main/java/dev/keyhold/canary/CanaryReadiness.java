package dev.keyhold.canary;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * {@code canaries}: DOWN while the latest canary run failed. UP before the first run (which comes 10 s after
 * start): an instance is not held out of service waiting for its first self-test.
 */
@Readiness
@ApplicationScoped
public class CanaryReadiness implements HealthCheck {

    @Inject
    CanaryRunner runner;
    @Inject
    CanaryConfig config;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("canaries").up().withData("interval", config.interval());
        runner.last().ifPresentOrElse(r -> {
            b.withData("at", r.at().toString());
            r.results().forEach(x -> b.withData(x.name(), x.passed() ? "passed" : "FAILED: got " + x.actual()));
            if (r.error() != null) {
                b.withData("error", r.error());
            }
            if (!r.passed()) {
                b.down();
            }
        }, () -> b.withData("state", "not run yet"));
        return b.build();
    }
}
