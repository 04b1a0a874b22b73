package dev.keyhold.health;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Tokens.claims;
import static org.hamcrest.Matchers.equalTo;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.TestHsm;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Fail closed on the sign path (invariant 7): with the issuer's HSM partition unreachable, signing is 503 (the HSM's
 * unavailability, not an approval-evidence finding: the key was activated with signed approvals), while verification
 * goes on, since it uses the public key from the key row, never the HSM. Kept beside HsmDownTest to share its
 * profile, so Quarkus starts once for both; the issuer lives on partition east, which this test takes away (the
 * profile's default partition never comes up, so no key could be generated and approved there).
 */
@QuarkusTest
@TestProfile(HsmDownTest.HsmUnreachable.class)
class SigningWithHsmDownTest {

    private static final String PARTITION = "east";

    @Inject
    Lifecycle lifecycle;

    @Inject
    MutableClock clock;

    @Test
    void signingIs503AndVerificationStillWorks() throws Exception {
        Map<String, Object> body = Api.issuerBody(Api.uniqueId("sign-hsm-down"));
        body.put("partition", PARTITION);
        String id = Api.createIssuer(body);
        // Made ACTIVE legitimately, with custodians' signed approvals, while the HSM is there.
        String kid = lifecycle.activeKey(id);
        String token = sign(id).then()
                .statusCode(200)
                .body("kid", equalTo(kid))
                .extract()
                .path("token");

        Path dir = TestHsm.tokenDirectory(PARTITION);
        // Outside the token directory: SoftHSM2 takes every directory in it for a token, whatever its name.
        Path away = dir.getParent().resolveSibling(dir.getFileName() + ".away");
        Files.move(dir, away);
        try {
            sign(id).then()
                    .statusCode(503)
                    .contentType("application/problem+json")
                    .body("type", equalTo("urn:keyhold:problem:hsm-unavailable"));
            as("auditor")
                    .body(Map.of("token", token))
                    .post("/v1/verify")
                    .then()
                    .statusCode(200)
                    .body("valid", equalTo(true))
                    .body("kid", equalTo(kid));
        } finally {
            Files.move(away, dir);
        }
        // Back (HsmDownTest, sharing this instance, expects east UP): once the re-initialisation backoff has passed.
        clock.advance(Duration.ofMinutes(2));
        sign(id).then().statusCode(200).body("kid", equalTo(kid));
    }

    private static Response sign(String id) {
        return as("signer").body(Map.of("claims", claims(id))).post("/v1/issuers/" + id + "/sign");
    }
}
