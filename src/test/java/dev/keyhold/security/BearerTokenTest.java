package dev.keyhold.security;

import static io.restassured.RestAssured.given;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Production authentication: bearer JWTs from the OIDC provider, roles from the groups claim. */
@QuarkusTest
public class BearerTokenTest {

    /** Keyhold's audience in the test configuration ({@code %test.mp.jwt.verify.audiences}). */
    public static final String AUDIENCE = "keyhold";

    public static String token(RSAKey key, String issuer, String subject, List<String> groups, long ttlSeconds)
            throws Exception {
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(issuer)
                .subject(subject)
                .audience(AUDIENCE)
                .claim("upn", subject)
                .claim("groups", groups)
                .issueTime(new Date())
                .expirationTime(new Date(System.currentTimeMillis() + ttlSeconds * 1000))
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).build(), claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    public static RSAKey providerKey() throws Exception {
        try (var in = BearerTokenTest.class.getResourceAsStream("/jwt/test-oidc-private.pem")) {
            return JWK.parseFromPEMEncodedObjects(new String(in.readAllBytes(), StandardCharsets.UTF_8))
                    .toRSAKey();
        }
    }

    @Test
    void providerTokensAuthenticateWithTheirGroupsAsRoles() throws Exception {
        RSAKey key = providerKey();
        String admin = token(key, "https://idp.test.example", "ops-robot", List.of("admin"), 300);
        given().auth().oauth2(admin).get("/v1/issuers").then().statusCode(200);
        String auditor = token(key, "https://idp.test.example", "audit-robot", List.of("auditor"), 300);
        given().auth()
                .oauth2(auditor)
                .contentType("application/json")
                .body("{}")
                .post("/v1/issuers")
                .then()
                .statusCode(403);
    }

    @Test
    void foreignExpiredOrMisIssuedTokensAre401() throws Exception {
        RSAKey key = providerKey();
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        var kp = g.generateKeyPair();
        RSAKey stranger = new RSAKey.Builder((java.security.interfaces.RSAPublicKey) kp.getPublic())
                .privateKey(kp.getPrivate())
                .build();
        given().auth()
                .oauth2(token(stranger, "https://idp.test.example", "x", List.of("admin"), 300))
                .get("/v1/issuers")
                .then()
                .statusCode(401);
        given().auth()
                .oauth2(token(key, "https://evil.example", "x", List.of("admin"), 300))
                .get("/v1/issuers")
                .then()
                .statusCode(401);
        given().auth()
                .oauth2(token(key, "https://idp.test.example", "x", List.of("admin"), -600))
                .get("/v1/issuers")
                .then()
                .statusCode(401);
        given().auth().oauth2("not.a.jwt").get("/v1/issuers").then().statusCode(401);
    }
}
