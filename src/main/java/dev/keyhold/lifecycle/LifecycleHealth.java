package dev.keyhold.lifecycle;

import io.smallrye.health.api.HealthGroup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Map;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

/**
 * The sweeper's and reconciler's findings on {@code /q/health/ready}. Always UP: one broken issuer, or one key
 * whose HSM object vanished, must not take the whole instance out of the load balancer (the other issuers' JWKS
 * and signing are fine). The data says what is wrong; alert on it or on the gauges
 * {@code keyhold_scheduler_failing_issuers} and {@code keyhold_hsm_missing_keys}.
 */
@HealthGroup("lifecycle")
@HealthGroup("operations")
@ApplicationScoped
public class LifecycleHealth implements HealthCheck {

    /** At most this many issuers or keys are listed by name; the counts are always complete. */
    static final int LISTED = 20;

    @Inject
    LifecycleStatus status;

    @Inject
    dev.keyhold.policy.IntegrityAlarm integrity;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("lifecycle").up();
        b.withData("lastSweepAt", String.valueOf(status.lastSweepAt()));
        b.withData("lastSweepIssuersDue", status.lastSweepDue());
        if (status.lastSweepError() != null) {
            b.withData("lastSweepError", status.lastSweepError());
        }
        Map<String, LifecycleStatus.Failure> failing = status.failingIssuers();
        b.withData("failingIssuers", failing.size());
        failing.entrySet().stream()
                .limit(LISTED)
                .forEach(e -> b.withData(
                        "issuer." + e.getKey(),
                        e.getValue().at() + " " + e.getValue().reason()));
        b.withData("lastReconcileAt", String.valueOf(status.lastReconcileAt()));
        Map<String, String> missing = status.missingKeys();
        b.withData("hsmMissingKeys", missing.size());
        missing.entrySet().stream().limit(LISTED).forEach(e -> b.withData("missing." + e.getKey(), e.getValue()));
        b.withData("hsmOrphansWaiting", status.orphansWaiting());
        // Private keys of retired or revoked keys (and remains of destroyed ones) the reconciler had to delete after
        // an interrupted command: each is also an audit record.
        b.withData("hsmDeletionsFinishedLastReconcile", status.lastReconcileFinished());
        b.withData("hsmDeletionsFinishedTotal", status.finishedDeletions());
        status.failingPartitions().forEach((p, f) -> b.withData("reconcile." + p, f.at() + " " + f.reason()));
        Map<String, String> violations = integrity.findings();
        b.withData("integrityViolations", violations.size());
        violations.entrySet().stream().limit(LISTED).forEach(e -> b.withData("integrity." + e.getKey(), e.getValue()));
        return b.build();
    }
}
