package dev.keyhold.signing;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Tokens.claims;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The sign path is counted per issuer and, like every other API path, timed by the generic HTTP server timer
 * (the standard-stack rework put it back: the sign endpoint goes through the same stack as the rest).
 */
@QuarkusTest
class SigningMetricsTest {

    @Inject
    Lifecycle lifecycle;

    @Test
    void signedTokensAreCountedPerIssuerAndTheSignPathHasItsHttpTimer() {
        String id = Api.createIssuer("smetric");
        lifecycle.activeKey(id);
        for (int i = 0; i < 3; i++) {
            as("signer")
                    .body(Map.of("claims", claims(id)))
                    .post("/v1/issuers/" + id + "/sign")
                    .then()
                    .statusCode(200);
        }
        as("signer")
                .body(Map.of("claims", Map.of("aud", "api://elsewhere")))
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(422);
        as("auditor").get("/v1/issuers/" + id).then().statusCode(200);
        String metrics =
                given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics).contains("keyhold_signing_tokens_total{issuer=\"" + id + "\"} 3.0");
        assertThat(metrics)
                .contains("keyhold_signing_refusals_total{issuer=\"" + id + "\",reason=\"invalid-claims\"} 1.0");
        assertThat(metrics)
                .containsPattern("http_server_requests_seconds_count\\{[^}]*uri=\"/v1/issuers/\\{id}/sign\"");
        assertThat(metrics).contains("uri=\"/v1/issuers/{id}\"");
    }
}
