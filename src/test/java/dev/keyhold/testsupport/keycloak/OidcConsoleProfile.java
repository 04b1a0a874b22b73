package dev.keyhold.testsupport.keycloak;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.List;
import java.util.Map;

/**
 * Keyhold whose console logs people in through the test Keycloak (authorization-code flow). Keycloak's subject is a
 * UUID; the realm's custodians are named by user name, as the issuers name them, so the principal claim is
 * {@code preferred_username} (for bearer tokens too: one setting).
 */
public class OidcConsoleProfile implements QuarkusTestProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "keyhold.auth.principal-claim",
                "preferred_username",
                "quarkus.log.category.\"io.quarkus.oidc\".level",
                "DEBUG");
    }

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(KeycloakResource.class));
    }
}
