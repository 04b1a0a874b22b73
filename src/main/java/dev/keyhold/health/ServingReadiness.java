package dev.keyhold.health;

import dev.keyhold.jwks.JwksCache;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.Connection;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * {@code serving}, the readiness check (SPEC invariant 7, "readiness = what the instance can serve to everyone"):
 * UP while the database answers, or while this instance holds JWKS documents it built earlier and can keep serving
 * without it. HSM, canaries, scheduler and relay are not part of readiness: they are in the health group
 * {@code operations} (and {@code hsm}, {@code canaries}, ...), so an HSM outage or a failed canary does not take
 * the JWKS away from relying parties. Quarkus's own datasource readiness check is off for the same reason
 * ({@code quarkus.datasource.health.enabled=false}); this check reports the database in its data.
 */
@Readiness
@ApplicationScoped
public class ServingReadiness implements HealthCheck {

    @Inject
    AgroalDataSource dataSource;

    @Inject
    JwksCache jwks;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("serving");
        String database = database();
        int cached = jwks.size();
        b.withData("database", database).withData("cachedJwksIssuers", cached);
        return b.status("UP".equals(database) || cached > 0).build();
    }

    private String database() {
        try (Connection c = dataSource.getConnection()) {
            return c.isValid(2) ? "UP" : "DOWN: no answer";
        } catch (Exception e) {
            return "DOWN: " + e.getClass().getSimpleName();
        }
    }
}
