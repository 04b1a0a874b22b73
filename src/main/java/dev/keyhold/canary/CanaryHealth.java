package dev.keyhold.canary;

import io.smallrye.health.api.HealthGroup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

/**
 * {@code canaries}, in the health groups {@code canaries} and {@code operations}: DOWN while the latest canary run
 * failed. Not a readiness check: a failed canary makes {@code POST /v1/verify} refuse (503) until a run passes
 * again, but the JWKS and the event feed stay up. UP before the first run (which comes 10 s after start).
 */
@HealthGroup("canaries")
@HealthGroup("operations")
@ApplicationScoped
public class CanaryHealth implements HealthCheck {

    @Inject
    CanaryRunner runner;

    @Inject
    CanaryConfig config;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b =
                HealthCheckResponse.named("canaries").up().withData("interval", config.interval());
        runner.last()
                .ifPresentOrElse(
                        r -> {
                            b.withData("at", r.at().toString());
                            r.results()
                                    .forEach(x ->
                                            b.withData(x.name(), x.passed() ? "passed" : "FAILED: got " + x.actual()));
                            if (r.error() != null) {
                                b.withData("error", r.error());
                            }
                            if (!r.passed()) {
                                b.down();
                            }
                        },
                        () -> b.withData("state", "not run yet"));
        return b.build();
    }
}
