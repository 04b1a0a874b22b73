package dev.keyhold.health;

import dev.keyhold.hsm.HsmException;
import dev.keyhold.hsm.HsmPort;
import io.smallrye.health.api.HealthGroup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.TreeSet;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

/**
 * {@code hsm} in the health groups {@code hsm} and {@code operations} ({@code /q/health/group/hsm}): DOWN while any
 * partition does not answer. Deliberately not a readiness check (SPEC invariant 7): an HSM outage must not take the
 * instance out of the load balancer, since the JWKS, the event feed and verification do not need the HSM; signing,
 * rotation and activation refuse on their own with 503 problems. Alert on this group or on
 * {@code keyhold_hsm_errors_total}.
 */
@HealthGroup("hsm")
@HealthGroup("operations")
@ApplicationScoped
public class HsmHealth implements HealthCheck {

    @Inject
    HsmPort hsm;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("hsm").up();
        for (String p : new TreeSet<>(hsm.partitions())) {
            try {
                hsm.check(p);
                b.withData(p, "UP");
            } catch (HsmException e) {
                b.withData(p, "DOWN: " + e.getClass().getSimpleName()).down();
            }
        }
        for (HsmPort.LibraryStatus l : hsm.libraries()) {
            String prefix = "library." + String.join(",", l.partitions()) + ".";
            b.withData(prefix + "reinitialisations", l.reinitialisations());
            if (l.failedInARow() > 0) {
                b.withData(prefix + "failedInARow", l.failedInARow());
                b.withData(prefix + "lastFailure", String.valueOf(l.lastFailure()));
            }
        }
        return b.build();
    }
}
