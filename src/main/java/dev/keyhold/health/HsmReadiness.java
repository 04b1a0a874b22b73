package dev.keyhold.health;

import dev.keyhold.hsm.HsmException;
import dev.keyhold.hsm.HsmPort;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import java.util.TreeSet;

/** Ready only when every configured HSM partition answers. The JWKS is served from the database regardless. */
@Readiness
@ApplicationScoped
public class HsmReadiness implements HealthCheck {

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
        return b.build();
    }
}
