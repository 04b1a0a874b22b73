package dev.keyhold.console;

import io.quarkus.oidc.OidcRequestContext;
import io.quarkus.oidc.OidcTenantConfig;
import io.quarkus.oidc.TenantConfigResolver;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Always answers "use the configured tenant". It exists for what its presence tells quarkus-oidc: that an application
 * without {@code quarkus.oidc.auth-server-url} is not misconfigured (embedded mode, or a deployment whose console uses
 * form login) but simply has no OpenID Connect tenant; without a resolver, quarkus-oidc refuses to start then.
 */
@ApplicationScoped
public class ConsoleTenants implements TenantConfigResolver {

    @Override
    public Uni<OidcTenantConfig> resolve(RoutingContext context, OidcRequestContext<OidcTenantConfig> request) {
        return Uni.createFrom().nullItem();
    }
}
