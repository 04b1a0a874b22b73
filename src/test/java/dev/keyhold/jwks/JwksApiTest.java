package dev.keyhold.jwks;

import static dev.keyhold.testsupport.Api.as;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.startsWith;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
class JwksApiTest {

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @Inject
    JwksCache cache;

    @AfterEach
    void resetClock() {
        clock.reset();
    }

    static String jwksPath(String issuer) {
        return "/issuers/" + issuer + "/.well-known/jwks.json";
    }

    @Test
    void publicWithStrongEtagAnd304() {
        String id = Api.createIssuer("jwks");
        given().get(jwksPath(id)).then().statusCode(200).body("keys", hasSize(0));
        String kid = Api.rotate(id);
        Response r = given().get(jwksPath(id));
        r.then()
                .statusCode(200)
                .header("Cache-Control", equalTo("public, max-age=60"))
                .header("ETag", startsWith("\""))
                .body("keys", hasSize(1))
                .body("keys[0].kid", equalTo(kid))
                .body("keys[0].use", equalTo("sig"))
                .body("keys[0].alg", equalTo("ES256"))
                .body("keys[0].kty", equalTo("EC"));
        assertThat(r.asString()).doesNotContain("\"d\"");
        String etag = r.header("ETag");
        given().header("If-None-Match", etag)
                .get(jwksPath(id))
                .then()
                .statusCode(304)
                .header("ETag", etag);
        given().header("If-None-Match", "\"other\", " + etag)
                .get(jwksPath(id))
                .then()
                .statusCode(304);
        given().header("If-None-Match", "\"stale\"").get(jwksPath(id)).then().statusCode(200);
        // a change makes a new document with a new tag
        as("alice")
                .body("{\"reason\":\"test\"}")
                .post("/v1/keys/" + kid + "/revoke")
                .then()
                .statusCode(200);
        given().header("If-None-Match", etag)
                .get(jwksPath(id))
                .then()
                .statusCode(200)
                .body("keys", hasSize(0));
    }

    @Test
    void unknownIssuerIs404Problem() {
        given().get(jwksPath("no-such-issuer")).then().statusCode(404).contentType("application/problem+json");
        given().get(jwksPath("NOT_A_SLUG")).then().statusCode(404).contentType("application/problem+json");
    }

    @Test
    void eachIssuersJwksHoldsOnlyItsOwnKeys() {
        String a = Api.createIssuer("iso-a");
        String b = Api.createIssuer("iso-b");
        String kidA = Api.rotate(a);
        String kidB = Api.rotate(b);
        List<String> kidsOfA =
                given().get(jwksPath(a)).then().statusCode(200).extract().path("keys.kid");
        List<String> kidsOfB =
                given().get(jwksPath(b)).then().statusCode(200).extract().path("keys.kid");
        assertThat(kidsOfA).containsExactly(kidA);
        assertThat(kidsOfB).containsExactly(kidB);
    }

    @Test
    void aForeignKeyRowCannotEnterAnotherIssuersDocument() {
        String a = Api.createIssuer("forge-a");
        String b = Api.createIssuer("forge-b");
        String kidA = Api.rotate(a);
        // Even if a bug handed B's document builder A's key, the builder refuses rather than publish it.
        var keyA = ((dev.keyhold.store.KeyEntity) io.quarkus.narayana.jta.QuarkusTransaction.requiringNew()
                        .call(() -> dev.keyhold.store.KeyEntity.findById(kidA)))
                .toKey();
        org.assertj.core.api.Assertions.assertThatThrownBy(() ->
                        JwksDocument.of(b, List.of(keyA), dev.keyhold.issuer.IssuerValidator.DEFAULTS, Instant.now()))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void revokedKeysLeaveAtOnce() {
        String id = Api.createIssuer("revoke-jwks");
        String kid = Api.rotate(id);
        given().get(jwksPath(id)).then().body("keys.kid", org.hamcrest.Matchers.hasItem(kid));
        as("bob")
                .body("{\"reason\":\"compromised\"}")
                .post("/v1/keys/" + kid + "/revoke")
                .then()
                .statusCode(200);
        given().get(jwksPath(id)).then().statusCode(200).body("keys", hasSize(0));
    }

    @Test
    void retiredKeyLeavesAtVerifyUntilWithoutAnyScheduler() {
        String id = Api.createIssuer("retired");
        String kid = Api.rotate(id);
        Instant now = clock.instant();
        clock.freezeAt(now);
        sql.exec(
                "update signing_key set state = 'RETIRED', activated_at = ?, not_after = ?, retired_at = ?, verify_until = ?"
                        + " where kid = ?",
                now.minusSeconds(60),
                now.plusSeconds(3600),
                now,
                now.plusSeconds(3600),
                kid);
        cache.invalidate(id);
        given().get(jwksPath(id)).then().body("keys.kid", org.hamcrest.Matchers.hasItem(kid));
        clock.advance(Duration.ofSeconds(3599));
        given().get(jwksPath(id)).then().body("keys.kid", org.hamcrest.Matchers.hasItem(kid));
        clock.advance(Duration.ofSeconds(1));
        given().get(jwksPath(id)).then().body("keys", hasSize(0));
    }

    @Test
    void activeKeyPastNotAfterLeavesAfterTokenTtlEvenIfNeverRetired() {
        String id = Api.createIssuer("stale-active");
        String kid = Api.rotate(id);
        Instant now = clock.instant();
        clock.freezeAt(now);
        // tokenTtl of the test issuer is 1h: tokens signed up to notAfter verify until notAfter + 1h
        sql.exec(
                "update signing_key set state = 'ACTIVE', activated_at = ?, not_after = ? where kid = ?",
                now.minusSeconds(60),
                now.plusSeconds(10),
                kid);
        cache.invalidate(id);
        given().get(jwksPath(id)).then().body("keys.kid", org.hamcrest.Matchers.hasItem(kid));
        clock.advance(Duration.ofSeconds(10 + 3599));
        given().get(jwksPath(id)).then().body("keys.kid", org.hamcrest.Matchers.hasItem(kid));
        clock.advance(Duration.ofSeconds(1));
        given().get(jwksPath(id)).then().body("keys", hasSize(0));
    }
}
