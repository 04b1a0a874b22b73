package dev.keyhold.health;

import dev.keyhold.hsm.HsmPort;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;

/**
 * {@code hsm-library} on {@code /q/health/live}: DOWN only when a PKCS#11 library cannot be brought back in this
 * process (its re-initialisation failed {@code keyhold.hsm.recovery.liveness-failures} times in a row), so an
 * orchestrator restarts the instance. An HSM that is merely unreachable keeps liveness UP: a restart would not
 * bring it back, and the instance keeps serving the JWKS.
 */
@Liveness
@ApplicationScoped
public class HsmLiveness implements HealthCheck {

    @Inject
    HsmPort hsm;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("hsm-library").up();
        for (HsmPort.LibraryStatus l : hsm.libraries()) {
            if (l.broken()) {
                b.down()
                        .withData(
                                String.join(",", l.partitions()),
                                "re-initialising the PKCS#11 library failed " + l.failedInARow() + " times in a row ("
                                        + l.lastFailure() + "); restart the process");
            }
        }
        return b.build();
    }
}
