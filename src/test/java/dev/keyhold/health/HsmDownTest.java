package dev.keyhold.health;

import static dev.keyhold.testsupport.Api.as;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Fail closed (invariant 7): with the HSM unreachable Keyhold makes no keys but stays ready and serves the JWKS.
 * Readiness changed: it was 503 here, which took the JWKS out of the load balancer exactly when it must
 * keep being served; the HSM's state is now in the health group {@code hsm}.
 */
@QuarkusTest
@TestProfile(HsmDownTest.HsmUnreachable.class)
class HsmDownTest {

    public static class HsmUnreachable implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("keyhold.hsm.partitions.default.slot", "424242");
        }
    }

    @Inject
    Sql sql;

    @Test
    void readyNoNewKeysAndTheJwksIsStillServed() throws Exception {
        String id = Api.createIssuer("hsm-down");
        // A real public key: the rotation below opens the key's activation request, whose statement carries the
        // key's JWK thumbprint.
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        com.nimbusds.jose.jwk.JWK jwk = dev.keyhold.hsm.PublicJwks.of(
                g.generateKeyPair().getPublic(), dev.keyhold.domain.SigningAlgorithm.ES256);
        String kid = jwk.getKeyID();
        Instant now = Instant.now();
        sql.exec(
                "insert into signing_key (kid, issuer_id, algorithm, partition_name, hsm_handle, public_jwk, state,"
                        + " created_at, activatable_at) values (?, ?, 'ES256', 'default', 'kh-x', ?, 'PENDING', ?, ?)",
                kid,
                id,
                jwk.toJSONString(),
                now,
                now);

        given().get("/q/health/ready")
                .then()
                .statusCode(200)
                .body("checks.find { it.name == 'serving' }.status", equalTo("UP"));
        given().get("/q/health/group/hsm")
                .then()
                .statusCode(503)
                .body("checks.find { it.name == 'hsm' }.status", equalTo("DOWN"))
                .body("checks.find { it.name == 'hsm' }.data.default", org.hamcrest.Matchers.startsWith("DOWN"))
                .body("checks.find { it.name == 'hsm' }.data.east", equalTo("UP"));
        // A partition that is configured wrong is not a reason to restart the process.
        given().get("/q/health/live").then().statusCode(200);
        given().get("/issuers/" + id + "/.well-known/jwks.json")
                .then()
                .statusCode(200)
                .body("keys.kid", hasItem(kid));

        long keysBefore = sql.count("select count(*) from signing_key");
        as("scheduler")
                .body("{}")
                .post("/v1/issuers/" + id + "/rotations")
                .then()
                .statusCode(200); // the pending key is returned without touching the HSM
        sql.exec(
                "update signing_key set state = 'REVOKED', revoked_at = ?, destroy_at = ? where kid = ?",
                now,
                now,
                kid);
        as("scheduler")
                .body("{}")
                .post("/v1/issuers/" + id + "/rotations")
                .then()
                .statusCode(503)
                .contentType("application/problem+json")
                .header("Retry-After", org.hamcrest.Matchers.notNullValue())
                .body("detail", org.hamcrest.Matchers.not(org.hamcrest.Matchers.containsString("pin")));
        assertThat(sql.count("select count(*) from signing_key")).isEqualTo(keysBefore);
    }
}
