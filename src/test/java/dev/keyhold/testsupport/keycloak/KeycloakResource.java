package dev.keyhold.testsupport.keycloak;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/** Starts the test Keycloak and points the console's OpenID Connect login at it. */
public class KeycloakResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        String realm = KeycloakServer.ensureStarted();
        return Map.of(
                "quarkus.oidc.auth-server-url",
                realm,
                "quarkus.oidc.client-id",
                KeycloakServer.CLIENT_ID,
                "quarkus.oidc.credentials.secret",
                KeycloakServer.CLIENT_SECRET);
    }

    @Override
    public void stop() {
        // kept for the rest of the JVM: starting Keycloak is slow; a shutdown hook stops it
    }
}
