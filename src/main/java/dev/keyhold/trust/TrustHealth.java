package dev.keyhold.trust;

import dev.keyhold.hsm.HsmException;
import dev.keyhold.hsm.HsmObjectMissingException;
import dev.keyhold.hsm.HsmPort;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.smallrye.health.api.HealthGroup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

/**
 * {@code trust-bundles} in the health groups {@code trust-bundles} and {@code operations} (not readiness): whether bundles are being signed. Kept UP when they are not,
 * like the relay and lifecycle checks: a stopped signer takes nothing away that another instance could give (they
 * share the HSM), the JWKS and signing go on, and validators keep the last bundle until its exp. The data says what
 * is wrong ({@code signing: stopped}, {@code reason}, {@code unsignedBundles}); alert on it.
 */
@HealthGroup("trust-bundles")
@HealthGroup("operations")
@ApplicationScoped
public class TrustHealth implements HealthCheck {

    @Inject
    TrustKeys keys;

    @Inject
    TrustStatus status;

    @Inject
    HsmPort hsm;

    @Inject
    TrustBundleStore store;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b =
                HealthCheckResponse.named("trust-bundles").up();
        String problem = null;
        try {
            var key = keys.current();
            if (key.isEmpty()) {
                problem = "no trust key yet";
            } else {
                b.withData("trustKid", key.get().kid());
                hsm.signingPublicKey(key.get().partition(), key.get().handle());
            }
            long unsigned = QuarkusTransaction.joiningExisting().call(store::unsignedCount);
            b.withData("unsignedBundles", unsigned);
        } catch (HsmObjectMissingException e) {
            problem = "the trust key's HSM object is missing: bundles are not signed";
        } catch (HsmException e) {
            problem = "the trust partition does not answer: " + e.getClass().getSimpleName();
        } catch (RuntimeException e) {
            problem = "cannot read the trust state: " + e.getClass().getSimpleName();
        }
        if (problem == null && status.lastError() != null) {
            problem = status.lastError();
        }
        b.withData("signing", problem == null ? "ok" : "stopped");
        if (problem != null) {
            b.withData("reason", problem);
        }
        b.withData("lastSignedAt", String.valueOf(status.lastSignedAt()));
        return b.build();
    }
}
