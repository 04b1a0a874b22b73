package dev.keyhold.signing;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Tokens.claims;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Rate limits (429 with Retry-After) and a public reference validator, under a profile that sets both. */
@QuarkusTest
@TestProfile(SigningLimitsTest.Limited.class)
class SigningLimitsTest {

    public static class Limited implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "keyhold.signing.rate-limit.per-principal",
                    "3",
                    "keyhold.signing.rate-limit.per-issuer",
                    "5",
                    "keyhold.verify.public",
                    "true");
        }
    }

    @Inject
    Lifecycle lifecycle;

    @Inject
    MutableClock clock;

    @AfterEach
    void resetClock() {
        clock.reset();
    }

    @Test
    void perPrincipalAndPerIssuerBucketsRefuseWith429AndRetryAfter() {
        Map<String, Object> body = Api.issuerBody(Api.uniqueId("limits"));
        body.put("signers", List.of("signer", "signer2"));
        String id = Api.createIssuer(body);
        lifecycle.activeKey(id);
        clock.freezeAt(clock.instant());
        Map<String, Object> req = Map.of("claims", claims(id));
        for (int i = 0; i < 3; i++) {
            as("signer").body(req).post("/v1/issuers/" + id + "/sign").then().statusCode(200);
        }
        as("signer")
                .body(req)
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(429)
                .contentType("application/problem+json")
                .header("Retry-After", "1")
                .body("type", equalTo("urn:keyhold:problem:rate-limited"))
                .body("detail", org.hamcrest.Matchers.containsString("principal"));
        // signer2 has its own bucket, but the issuer's holds only 5 per second
        as("signer2").body(req).post("/v1/issuers/" + id + "/sign").then().statusCode(200);
        as("signer2").body(req).post("/v1/issuers/" + id + "/sign").then().statusCode(200);
        as("signer2")
                .body(req)
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(429)
                .header("Retry-After", "1")
                .body("detail", org.hamcrest.Matchers.containsString("issuer"));
        clock.advance(Duration.ofSeconds(1));
        as("signer2").body(req).post("/v1/issuers/" + id + "/sign").then().statusCode(200);
    }

    @Test
    void aRefusalBeyondTheLimitIsAProblemWithRetryAfter() {
        String id = Api.createIssuer("limits-route");
        lifecycle.activeKey(id);
        clock.freezeAt(clock.instant());
        clock.advance(Duration.ofSeconds(1)); // fresh buckets
        Map<String, Object> req = Map.of("claims", claims(id));
        for (int i = 0; i < 3; i++) {
            as("signer").body(req).post("/v1/issuers/" + id + "/sign").then().statusCode(200);
        }
        as("signer")
                .body(req)
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(429)
                .contentType("application/problem+json")
                .header("Retry-After", "1")
                .body("type", equalTo("urn:keyhold:problem:rate-limited"))
                .body("instance", equalTo("/v1/issuers/" + id + "/sign"))
                .body("detail", org.hamcrest.Matchers.containsString("principal"));
    }

    @Test
    void verifyIsPublicWhenConfigured() {
        String id = Api.createIssuer("public-verify");
        lifecycle.activeKey(id);
        String t = Tokens.sign(id, claims(id));
        given().contentType("application/json")
                .body(Map.of("token", t))
                .post("/v1/verify")
                .then()
                .statusCode(200)
                .body("valid", equalTo(true));
        given().contentType("application/json")
                .body(Map.of("token", "a.b.c"))
                .post("/v1/verify")
                .then()
                .statusCode(200)
                .body("reason", equalTo("malformed"));
    }
}
