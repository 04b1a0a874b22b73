package dev.keyhold.health;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Tokens.claims;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import dev.keyhold.hsm.HsmPort;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.StateFingerprint;
import dev.keyhold.testsupport.TestHsm;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The HSM goes away under a running instance (a SoftHSM2 token directory moved away, as an operator
 * did by hand) and comes back. While it is away the instance stays ready and keeps serving the JWKS, and signing,
 * rotation and activation refuse on their own with 503 problems and change nothing; once it is back, signing works
 * again with no restart (the PKCS#11 library is re-initialised in-process).
 *
 * <p>The profile also switches JSON logs on ({@code KEYHOLD_LOG_JSON}), checked by {@link JsonLogTest}, which shares
 * it so Quarkus starts once for both.
 */
@QuarkusTest
@TestProfile(HsmOutageTest.JsonLogs.class)
class HsmOutageTest {

    public static class JsonLogs implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("KEYHOLD_LOG_JSON", "true");
        }
    }

    private static final String PARTITION = "east";

    @Inject
    dev.keyhold.lifecycle.Sweeper sweeper;

    @Inject
    Sql sql;

    @Inject
    Lifecycle lifecycle;

    @Inject
    MutableClock clock;

    @Inject
    StateFingerprint fingerprint;

    @Inject
    HsmPort hsm;

    @Test
    void anHsmThatGoesAwayAndComesBackUnderARunningInstance() throws Exception {
        Map<String, Object> body = Api.issuerBody(Api.uniqueId("outage"));
        body.put("partition", PARTITION);
        String id = Api.createIssuer(body);
        Map<String, Object> emptyBody = Api.issuerBody(Api.uniqueId("outage-empty"));
        emptyBody.put("partition", PARTITION);
        String empty = Api.createIssuer(emptyBody);
        String active = lifecycle.activeKey(id);
        sign(id).then().statusCode(200).body("kid", equalTo(active));
        // A successor approved before the outage, due to go live during it.
        String pending = Api.rotate(id);
        UUID request = (UUID) sql.one("select id from activation_request where kid = ? and state = 'OPEN'", pending);
        for (String custodian : List.of("alice", "bob")) {
            Api.approve(custodian, request.toString()).then().statusCode(200);
        }
        assertThat(sql.one("select state from activation_request where id = ?", request))
                .isEqualTo("APPROVED");
        List<String> objectsBefore = hsm.list(PARTITION);
        assertThat(objectsBefore).isNotEmpty();

        Path token = TestHsm.tokenDirectory(PARTITION);
        // Outside the token directory: SoftHSM2 takes every directory in it for a token, whatever its name.
        Path away = token.getParent().resolveSibling(token.getFileName() + ".away");
        Files.move(token, away);
        try {
            clock.advance(Duration.ofHours(3)); // the successor's publishLead (PT2H) has passed
            String before = fingerprint.of(id);
            long keysBefore = sql.count("select count(*) from signing_key");

            // Readiness is what the instance can serve to everyone: still UP, and the JWKS is served.
            given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
            given().get("/issuers/" + id + "/.well-known/jwks.json").then().statusCode(200);
            // The HSM's own health group says what is wrong.
            given().get("/q/health/group/hsm")
                    .then()
                    .statusCode(503)
                    .body(
                            "checks.find { it.name == 'hsm' }.data." + PARTITION,
                            org.hamcrest.Matchers.startsWith("DOWN"))
                    .body("checks.find { it.name == 'hsm' }.data.default", equalTo("UP"));
            given().get("/q/health/live").then().statusCode(200);

            // Signing, rotation and activation refuse on their own, with 503 problems and Retry-After.
            unavailable(sign(id));
            // Reads never write: the due activation is taken by the sweep, which cannot reach the key now.
            sweeper.sweep(java.util.List.of(id));
            as("alice").get("/v1/activations/" + request).then().statusCode(200).body("state", equalTo("APPROVED"));
            assertThat(sql.one("select state from signing_key where kid = ?", pending))
                    .isEqualTo("PENDING");
            // An issuer with no key needs the HSM to rotate.
            String emptyBefore = fingerprint.of(empty);
            unavailable(as("scheduler").body("{}").post("/v1/issuers/" + empty + "/rotations"));
            assertThat(fingerprint.of(empty)).isEqualTo(emptyBefore);
            assertThat(fingerprint.of(id)).isEqualTo(before);
            assertThat(sql.count("select count(*) from signing_key")).isEqualTo(keysBefore);
        } finally {
            Files.move(away, token);
        }

        // Back: the next re-initialisation is due once its backoff has passed (at most
        // keyhold.hsm.recovery.max-backoff).
        clock.advance(Duration.ofMinutes(2));
        sign(id).then().statusCode(200).body("kid", equalTo(active));
        assertThat(hsm.list(PARTITION)).isEqualTo(objectsBefore);
        given().get("/q/health/group/hsm").then().statusCode(200);
        sweeper.sweep(java.util.List.of(id));
        as("alice").get("/v1/activations/" + request).then().statusCode(200).body("state", equalTo("EXECUTED"));
        sign(id).then().statusCode(200).body("kid", equalTo(pending));

        String metrics =
                given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics)
                .containsPattern(
                        "keyhold_hsm_errors_total\\{[^}]*kind=\"unavailable\"[^}]*operation=\"sign\"[^}]*partition=\"east\"[^}]*} [1-9]")
                .containsPattern("keyhold_hsm_latency_seconds_bucket\\{[^}]*operation=\"sign\"[^}]*partition=\"east\"")
                .containsPattern("keyhold_signing_latency_seconds_bucket\\{[^}]*outcome=\"signed\"")
                .containsPattern("keyhold_signing_latency_seconds_count\\{[^}]*outcome=\"refused\"[^}]*} [1-9]");
    }

    private static Response sign(String id) {
        return as("signer").body(Map.of("claims", claims(id))).post("/v1/issuers/" + id + "/sign");
    }

    private static void unavailable(Response r) {
        r.then()
                .statusCode(503)
                .contentType("application/problem+json")
                .body("type", equalTo("urn:keyhold:problem:hsm-unavailable"))
                .header("Retry-After", notNullValue());
    }
}
