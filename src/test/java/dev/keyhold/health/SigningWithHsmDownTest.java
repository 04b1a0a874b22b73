package dev.keyhold.health;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Tokens.claims;
import static org.hamcrest.Matchers.equalTo;

import com.nimbusds.jose.jwk.JWK;
import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.PublicJwks;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Fail closed on the sign path (invariant 7): with the issuer's HSM partition unreachable, signing is 503, while
 * verification goes on, since it uses the public key from the key row, never the HSM. Kept beside HsmDownTest to
 * share its profile, so Quarkus starts once for both.
 */
@QuarkusTest
@TestProfile(HsmDownTest.HsmUnreachable.class)
class SigningWithHsmDownTest {

    @Inject
    Sql sql;

    @Test
    void signingIs503AndVerificationStillWorks() throws Exception {
        String id = Api.createIssuer("sign-hsm-down");
        // An ACTIVE key whose private half this test holds (the HSM cannot make one now); its row is a real row.
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = g.generateKeyPair();
        JWK jwk = PublicJwks.of(pair.getPublic(), SigningAlgorithm.ES256);
        Instant now = Instant.now();
        sql.exec(
                "insert into signing_key (kid, issuer_id, algorithm, partition_name, hsm_handle, public_jwk, state,"
                        + " created_at, activatable_at, activated_at, not_after) values (?, ?, 'ES256', 'default', ?, ?,"
                        + " 'ACTIVE', ?, ?, ?, ?)",
                jwk.getKeyID(),
                id,
                "kh-" + id + "-test",
                jwk.toJSONString(),
                now.minusSeconds(60),
                now.minusSeconds(30),
                now.minusSeconds(10),
                now.plusSeconds(86400));

        as("signer")
                .body(Map.of("claims", claims(id)))
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(503)
                .contentType("application/problem+json")
                .body("type", equalTo("urn:keyhold:problem:hsm-unavailable"));

        Map<String, Object> payload = Map.of(
                "iss",
                "https://" + id + ".test.example",
                "aud",
                "api://" + id,
                "sub",
                "x",
                "exp",
                now.getEpochSecond() + 600);
        String input = Tokens.b64(Tokens.header("ES256", jwk.getKeyID())) + "." + Tokens.b64(payload);
        Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
        s.initSign(pair.getPrivate());
        s.update(input.getBytes(StandardCharsets.US_ASCII));
        String token = input + "." + Tokens.B64.encodeToString(s.sign());
        as("auditor")
                .body(Map.of("token", token))
                .post("/v1/verify")
                .then()
                .statusCode(200)
                .body("valid", equalTo(true))
                .body("kid", equalTo(jwk.getKeyID()));
    }
}
