package dev.keyhold.verify;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Tokens.claims;
import static dev.keyhold.testsupport.Tokens.header;
import static dev.keyhold.testsupport.Tokens.verdict;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import com.nimbusds.jose.jwk.JWK;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
class VerifyApiTest {

    @Inject
    Lifecycle lifecycle;

    @Inject
    MutableClock clock;

    @Inject
    Sql sql;

    @Inject
    Tokens tokens;

    @AfterEach
    void resetClock() {
        clock.reset();
    }

    private long now() {
        return clock.instant().getEpochSecond();
    }

    @Test
    void aTokenKeyholdSignedIsValidAndTheVerdictNamesIssAndKid() {
        String id = Api.createIssuer("ver");
        String kid = lifecycle.activeKey(id);
        String token = Tokens.sign(id, claims(id));
        as("auditor")
                .body(Map.of("token", token))
                .post("/v1/verify")
                .then()
                .statusCode(200)
                .body("valid", equalTo(true))
                .body("reason", nullValue())
                .body("iss", equalTo("https://" + id + ".test.example"))
                .body("kid", equalTo(kid));
        // any role may ask
        for (String who : List.of("admin", "alice", "scheduler", "signer")) {
            as(who).body(Map.of("token", token))
                    .post("/v1/verify")
                    .then()
                    .statusCode(200)
                    .body("valid", equalTo(true));
        }
    }

    @Test
    void anotherIssuersKeyIsNotBoundEvenWithAValidSignature() {
        String a = Api.createIssuer("bind-a");
        String b = Api.createIssuer("bind-b");
        String kidA = lifecycle.activeKey(a);
        lifecycle.activeKey(b);
        // Signed for real by A's ACTIVE key, claiming B, with B's audience: the Storm-0558 token.
        String forged = tokens.forge(kidA, header("ES256", kidA), tokens.payload(b, now()));
        as("auditor")
                .body(Map.of("token", forged))
                .post("/v1/verify")
                .then()
                .statusCode(200)
                .body("valid", equalTo(false))
                .body("reason", equalTo("kid_not_bound_to_issuer"))
                .body("kid", equalTo(kidA));
        // the same key and claims for A verify: the signature itself was fine
        assertThat(verdict(tokens.forge(kidA, header("ES256", kidA), tokens.payload(a, now()))))
                .isNull();
        // a kid nobody knows
        assertThat(verdict(tokens.forge(kidA, header("ES256", "x".repeat(43)), tokens.payload(a, now()))))
                .isEqualTo("kid_not_bound_to_issuer");
        Map<String, Object> noKid = header("ES256", kidA);
        noKid.remove("kid");
        assertThat(verdict(tokens.forge(kidA, noKid, tokens.payload(a, now())))).isEqualTo("kid_not_bound_to_issuer");
    }

    @Test
    void unknownOrSuspendedIssuersAreNotAllowed() {
        String id = Api.createIssuer("iss");
        String kid = lifecycle.activeKey(id);
        Map<String, Object> p = tokens.payload(id, now());
        p.put("iss", "https://nobody.example");
        assertThat(verdict(tokens.forge(kid, header("ES256", kid), p))).isEqualTo("issuer_not_allowed");
        p.remove("iss");
        assertThat(verdict(tokens.forge(kid, header("ES256", kid), p))).isEqualTo("issuer_not_allowed");
        String good = Tokens.sign(id, claims(id));
        assertThat(verdict(good)).isNull();
        sql.exec("update issuer set status = 'SUSPENDED' where id = ?", id);
        assertThat(verdict(good)).isEqualTo("issuer_not_allowed");
    }

    @Test
    void revokedAndExpiredKeysAreNotUsable() {
        String id = Api.createIssuer("usable");
        String kid = lifecycle.activeKey(id);
        String token = Tokens.sign(id, claims(id));
        as("alice")
                .body("{\"reason\":\"compromised\"}")
                .post("/v1/keys/" + kid + "/revoke")
                .then()
                .statusCode(200);
        assertThat(verdict(token)).isEqualTo("key_not_usable");

        String id2 = Api.createIssuer("retired-ver");
        String kid2 = lifecycle.activeKey(id2);
        Instant t = clock.instant();
        clock.freezeAt(t);
        String token2 = tokens.forge(kid2, header("ES256", kid2), tokens.payload(id2, now()));
        sql.exec(
                "update signing_key set state = 'RETIRED', retired_at = ?, verify_until = ? where kid = ?",
                t,
                t.plusSeconds(30),
                kid2);
        assertThat(verdict(token2)).isNull();
        clock.advance(Duration.ofSeconds(30));
        assertThat(verdict(token2)).isEqualTo("key_not_usable");
    }

    @Test
    void theAlgorithmComesFromTheKeyNeverFromTheToken() throws Exception {
        String id = Api.createIssuer("alg");
        String kid = lifecycle.activeKey(id);
        Map<String, Object> p = tokens.payload(id, now());
        String none = Tokens.b64(header("none", kid)) + "." + Tokens.b64(p) + ".";
        assertThat(verdict(none)).isEqualTo("malformed"); // an empty signature part is no JWS (RFC 7515)
        assertThat(verdict(none + "c2lnbmF0dXJl")).isEqualTo("invalid_signature");

        String jwk = (String) sql.one("select public_jwk from signing_key where kid = ?", kid);
        byte[] pubDer = JWK.parse(jwk).toECKey().toECPublicKey().getEncoded();
        for (byte[] secret : List.of(
                pubDer,
                jwk.getBytes(StandardCharsets.UTF_8),
                ("-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(pubDer)
                                + "\n-----END PUBLIC KEY-----\n")
                        .getBytes(StandardCharsets.US_ASCII))) {
            String input = Tokens.b64(header("HS256", kid)) + "." + Tokens.b64(p);
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            String hs = input + "." + Tokens.B64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
            assertThat(verdict(hs)).isEqualTo("invalid_signature");
        }
        // alg swaps: a real ES256 signature presented as ES384 or RS256
        assertThat(verdict(tokens.forge(kid, header("ES384", kid), p))).isEqualTo("invalid_signature");
        assertThat(verdict(tokens.forge(kid, header("RS256", kid), p))).isEqualTo("invalid_signature");
        // a payload changed after signing
        String good = tokens.forge(kid, header("ES256", kid), p);
        String[] parts = good.split("\\.");
        Map<String, Object> changed = Tokens.decode(parts[1]);
        changed.put("sub", "admin");
        assertThat(verdict(parts[0] + "." + Tokens.b64(changed) + "." + parts[2]))
                .isEqualTo("invalid_signature");
        // a DER-encoded ECDSA signature is not the JWS form
        assertThat(verdict(parts[0] + "." + parts[1] + "."
                        + Tokens.B64.encodeToString(dev.keyhold.hsm.EcdsaSignatures.joseToDer(
                                Base64.getUrlDecoder().decode(parts[2])))))
                .isEqualTo("invalid_signature");
        assertThat(verdict(good)).isNull();
    }

    @Test
    void audienceAndExpiryComeLast() {
        String id = Api.createIssuer("aud");
        String kid = lifecycle.activeKey(id);
        Map<String, Object> p = tokens.payload(id, now());
        p.put("aud", List.of("api://" + id, "api://elsewhere"));
        assertThat(verdict(tokens.forge(kid, header("ES256", kid), p))).isEqualTo("audience_not_allowed");
        p.remove("aud");
        assertThat(verdict(tokens.forge(kid, header("ES256", kid), p))).isEqualTo("audience_not_allowed");

        Instant t = clock.instant();
        clock.freezeAt(t);
        String shortLived = as("signer")
                .body(Map.of("claims", claims(id), "ttl", "PT1M"))
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(200)
                .extract()
                .path("token");
        clock.advance(Duration.ofSeconds(59));
        assertThat(verdict(shortLived)).isNull();
        clock.advance(Duration.ofSeconds(1));
        assertThat(verdict(shortLived)).isEqualTo("expired");

        Map<String, Object> noExp = tokens.payload(id, now());
        noExp.remove("exp");
        assertThat(verdict(tokens.forge(kid, header("ES256", kid), noExp))).isEqualTo("expired");
        Map<String, Object> notYet = tokens.payload(id, now());
        notYet.put("nbf", now() + 60);
        assertThat(verdict(tokens.forge(kid, header("ES256", kid), notYet))).isEqualTo("expired");
    }

    @Test
    void checksRunInTheContractOrder() {
        String a = Api.createIssuer("order-a");
        String b = Api.createIssuer("order-b");
        String kidA = lifecycle.activeKey(a);
        Map<String, Object> p = tokens.payload(a, now());
        p.put("iss", "https://nobody.example");
        p.put("exp", 1);
        // unknown issuer beats a bad signature, audience and expiry
        assertThat(verdict(Tokens.b64(header("none", kidA)) + "." + Tokens.b64(p) + ".c2lnbmF0dXJl"))
                .isEqualTo("issuer_not_allowed");
        // a foreign kid beats a bad signature
        Map<String, Object> pb = tokens.payload(b, now());
        assertThat(verdict(Tokens.b64(header("none", kidA)) + "." + Tokens.b64(pb) + ".c2lnbmF0dXJl"))
                .isEqualTo("kid_not_bound_to_issuer");
        // a bad signature beats a wrong audience and expiry
        Map<String, Object> pa = tokens.payload(a, now());
        pa.put("aud", "api://elsewhere");
        pa.put("exp", 1);
        assertThat(verdict(Tokens.b64(header("none", kidA)) + "." + Tokens.b64(pa) + ".c2lnbmF0dXJl"))
                .isEqualTo("invalid_signature");
        // a wrong audience beats expiry
        assertThat(verdict(tokens.forge(kidA, header("ES256", kidA), pa))).isEqualTo("audience_not_allowed");
    }

    @Test
    void malformedTokensAndAccess() {
        for (String bad : List.of(
                "abc",
                "a.b",
                "a.b.c.d",
                "!!.??.##",
                Tokens.B64.encodeToString("[1]".getBytes()) + ".e30.",
                Tokens.B64.encodeToString("{\"alg\":\"ES256\",\"alg\":\"none\"}".getBytes()) + ".e30.")) {
            as("auditor")
                    .body(Map.of("token", bad))
                    .post("/v1/verify")
                    .then()
                    .statusCode(200)
                    .body("valid", equalTo(false))
                    .body("reason", equalTo("malformed"));
        }
        as("auditor").body("{}").post("/v1/verify").then().statusCode(422);
        as("auditor")
                .body("{\"token\":\"a.b.c\",\"x\":1}")
                .post("/v1/verify")
                .then()
                .statusCode(400);
        given().contentType("application/json")
                .body(Map.of("token", "a.b.c"))
                .post("/v1/verify")
                .then()
                .statusCode(401)
                .header("WWW-Authenticate", org.hamcrest.Matchers.containsString("Basic"));
        given().auth()
                .preemptive()
                .basic("auditor", "wrong")
                .contentType("application/json")
                .body(Map.of("token", "a.b.c"))
                .post("/v1/verify")
                .then()
                .statusCode(401);
    }

    @Test
    void anAuthenticatedPrincipalWithoutAKeyholdRoleIsForbidden() throws Exception {
        com.nimbusds.jose.jwk.RSAKey idp;
        try (var in = getClass().getResourceAsStream("/jwt/test-oidc-private.pem")) {
            idp = JWK.parseFromPEMEncodedObjects(new String(in.readAllBytes(), StandardCharsets.UTF_8))
                    .toRSAKey();
        }
        for (var groups : List.of(List.of("nobody"), List.of("auditor"))) {
            var claims = new com.nimbusds.jwt.JWTClaimsSet.Builder()
                    .issuer("https://idp.test.example")
                    .subject("robot")
                    .audience("keyhold")
                    .claim("upn", "robot")
                    .claim("groups", groups)
                    .issueTime(new java.util.Date())
                    .expirationTime(new java.util.Date(System.currentTimeMillis() + 300_000))
                    .build();
            var jwt = new com.nimbusds.jwt.SignedJWT(
                    new com.nimbusds.jose.JWSHeader.Builder(com.nimbusds.jose.JWSAlgorithm.RS256).build(), claims);
            jwt.sign(new com.nimbusds.jose.crypto.RSASSASigner(idp));
            given().auth()
                    .oauth2(jwt.serialize())
                    .contentType("application/json")
                    .body(Map.of("token", "a.b.c"))
                    .post("/v1/verify")
                    .then()
                    .statusCode(groups.contains("auditor") ? 200 : 403);
        }
    }

    @Test
    void verdictsAreCountedByIssuerAndReasonWithoutAKidTag() {
        // The kid tag grew with every key ever verified, so it was dropped; the kid is in the log line.
        String id = Api.createIssuer("count");
        String kid = lifecycle.activeKey(id);
        assertThat(verdict(Tokens.sign(id, claims(id)))).isNull();
        assertThat(verdict("abc")).isEqualTo("malformed");
        String metrics = given().get("/q/metrics").asString();
        assertThat(metrics)
                .containsPattern(
                        "keyhold_verify_verdicts_total\\{[^}]*issuer=\"" + id + "\"[^}]*reason=\"valid\"[^}]*} 1\\.0");
        assertThat(metrics).contains("issuer=\"unregistered\"");
        assertThat(metrics.lines().filter(l -> l.startsWith("keyhold_verify_verdicts_total")))
                .noneMatch(l -> l.contains("kid="));
        assertThat(metrics).doesNotContain(kid);
    }
}
