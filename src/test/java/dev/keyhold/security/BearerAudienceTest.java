package dev.keyhold.security;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.keyhold.testsupport.Api;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.util.Date;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A bearer token is accepted only when it is meant for Keyhold (its {@code aud} names Keyhold's
 * audience) and names its principal by the configured claim ({@code sub}); tokens the organisation's identity
 * provider issued for other applications are refused, counted, and never let through by their groups.
 */
@QuarkusTest
class BearerAudienceTest {

    private static final String IDP = "https://idp.test.example";

    @Inject
    MeterRegistry registry;

    @Test
    void aTokenForAnotherApplicationIs401AndCounted() throws Exception {
        double before = refused("audience");
        for (String role : List.of("auditor", "admin", "custodian")) {
            Response r = call(
                    token(c -> c.audience("other-app").subject("ops-" + role).claim("groups", List.of(role))));
            r.then().statusCode(401);
            assertThat(r.header("WWW-Authenticate")).isNotBlank();
        }
        assertThat(refused("audience")).isEqualTo(before + 3);
    }

    @Test
    void aTokenWithoutAudienceIs401AndCounted() throws Exception {
        double before = refused("audience");
        Response r = call(token(c -> c.subject("ops-robot").claim("groups", List.of("admin"))));
        r.then().statusCode(401);
        assertThat(r.header("WWW-Authenticate")).isNotBlank();
        assertThat(refused("audience")).isEqualTo(before + 1);
    }

    @Test
    void aTokenWithoutThePrincipalClaimIs401EvenWithOtherNames() throws Exception {
        double before = refused("principal-claim");
        // no sub: upn and preferred_username must not stand in for it
        Response r = call(token(c -> c.audience(BearerTokenTest.AUDIENCE)
                .claim("upn", "ops")
                .claim("preferred_username", "ops")
                .claim("groups", List.of("admin"))));
        r.then().statusCode(401);
        assertThat(r.header("WWW-Authenticate")).isNotBlank();
        assertThat(refused("principal-claim")).isEqualTo(before + 1);
    }

    @Test
    void theRightTokenIsAccepted() throws Exception {
        double audience = refused("audience");
        double invalid = refused("invalid");
        call(token(c -> c.audience(List.of("someone-else", BearerTokenTest.AUDIENCE))
                        .subject("ops-robot")
                        .claim("groups", List.of("auditor"))))
                .then()
                .statusCode(200);
        assertThat(refused("audience")).isEqualTo(audience);
        assertThat(refused("invalid")).isEqualTo(invalid);
    }

    @Test
    void otherFaultsAreCountedAsInvalid() throws Exception {
        double before = refused("invalid");
        call(token(c -> c.audience(BearerTokenTest.AUDIENCE)
                        .subject("x")
                        .issuer("https://evil.example")
                        .claim("groups", List.of("admin"))))
                .then()
                .statusCode(401);
        call("not.a.jwt").then().statusCode(401);
        assertThat(refused("invalid")).isEqualTo(before + 2);
    }

    @Test
    void custodianListsMatchThePrincipalClaimNotUsernames() throws Exception {
        String id = Api.createIssuer("aud-principal");
        // mallory's own subject, with alice's username and upn: the custodian list names alice, not mallory-sub
        String impostor = token(c -> c.audience(BearerTokenTest.AUDIENCE)
                .subject("mallory-sub")
                .claim("preferred_username", "alice")
                .claim("upn", "alice")
                .claim("email", "alice@example.test")
                .claim("groups", List.of("custodian")));
        given().auth()
                .oauth2(impostor)
                .contentType("application/json")
                .body("{\"reason\":\"x\"}")
                .post("/v1/issuers/" + id + "/suspend")
                .then()
                .statusCode(403);
        Api.as("auditor")
                .get("/v1/issuers/" + id)
                .then()
                .statusCode(200)
                .body("status", org.hamcrest.Matchers.equalTo("ACTIVE"));
        // alice's own subject may
        String alice = token(c -> c.audience(BearerTokenTest.AUDIENCE)
                .subject("alice")
                .claim("preferred_username", "someone-else")
                .claim("groups", List.of("custodian")));
        given().auth()
                .oauth2(alice)
                .contentType("application/json")
                .body("{\"reason\":\"x\"}")
                .post("/v1/issuers/" + id + "/suspend")
                .then()
                .statusCode(200);
        Api.as("auditor")
                .get("/v1/issuers/" + id)
                .then()
                .statusCode(200)
                .body("status", org.hamcrest.Matchers.equalTo("SUSPENDED"));
    }

    private static Response call(String token) {
        return given().auth().oauth2(token).get("/v1/issuers");
    }

    private double refused(String reason) {
        return registry.get("keyhold.auth.bearer.refused")
                .tag("reason", reason)
                .counter()
                .count();
    }

    /** A token signed by the test identity provider's key, issued by it, fresh; {@code claims} adds the rest. */
    static String token(UnaryOperator<JWTClaimsSet.Builder> claims) throws Exception {
        RSAKey key = BearerTokenTest.providerKey();
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder()
                .issuer(IDP)
                .issueTime(new Date())
                .expirationTime(new Date(System.currentTimeMillis() + 300_000));
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.RS256).build(),
                claims.apply(b).build());
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }
}
