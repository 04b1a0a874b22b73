package dev.keyhold.signing;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Api.sign;
import static dev.keyhold.testsupport.Tokens.claims;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.Tokens;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
class SigningApiTest {

    @Inject
    Lifecycle lifecycle;

    @Inject
    MutableClock clock;

    @Inject
    Sql sql;

    @Inject
    HsmPort hsm;

    @Inject
    ChangeRecorder recorder;

    @Inject
    EntityManager em;

    @Inject
    SigningCache cache;

    @AfterEach
    void resetClock() {
        clock.reset();
    }

    @Test
    void signsAJwtWithTheActiveKeyAndSetsIssIatExp() {
        String id = Api.createIssuer("sign");
        String kid = lifecycle.activeKey(id);
        Map<String, Object> c = claims(id);
        c.put("jti", "abc");
        c.put("nbf", clock.instant().getEpochSecond());
        c.put("roles", List.of("reader"));
        Response r = sign("signer", id, Map.of("claims", c));
        r.then().statusCode(200).body("kid", equalTo(kid));
        String token = r.path("token");
        String[] parts = token.split("\\.");
        assertThat(parts).hasSize(3);
        assertThat(Tokens.decode(parts[0]))
                .containsExactlyInAnyOrderEntriesOf(Map.of("alg", "ES256", "kid", kid, "typ", "JWT"));
        Map<String, Object> payload = Tokens.decode(parts[1]);
        long now = clock.instant().getEpochSecond();
        assertThat(payload.get("iss")).isEqualTo("https://" + id + ".test.example");
        assertThat(((Number) payload.get("iat")).longValue()).isBetween(now - 5, now);
        assertThat(((Number) payload.get("exp")).longValue() - ((Number) payload.get("iat")).longValue())
                .isEqualTo(3600);
        assertThat(payload)
                .containsEntry("sub", "user-1")
                .containsEntry("jti", "abc")
                .containsEntry("roles", List.of("reader"));
        assertThat(Instant.parse(r.path("expiresAt")))
                .isEqualTo(Instant.ofEpochSecond(((Number) payload.get("exp")).longValue()));
        assertThat(parts[2]).hasSize(86); // 64 bytes R‖S in base64url
        assertThat(Tokens.verdict(token)).isNull();
    }

    @Test
    void lifetimeIsTokenTtlAtMostAndLongerRequestsAreRefused() {
        String id = Api.createIssuer("ttl");
        lifecycle.activeKey(id);
        Map<String, Object> body = new HashMap<>(Map.of("claims", claims(id), "ttl", "PT5M"));
        String token = sign("signer", id, body).then().statusCode(200).extract().path("token");
        Map<String, Object> p = Tokens.decode(token.split("\\.")[1]);
        assertThat(((Number) p.get("exp")).longValue() - ((Number) p.get("iat")).longValue())
                .isEqualTo(300);

        sign("signer", id, Map.of("claims", claims(id), "ttl", "PT1H1S"))
                .then()
                .statusCode(422)
                .contentType("application/problem+json")
                .body("errors[0].field", equalTo("ttl"));
        sign("signer", id, Map.of("claims", claims(id), "ttl", "soon")).then().statusCode(422);
        Map<String, Object> late = claims(id);
        late.put("exp", clock.instant().getEpochSecond() + 3601);
        sign("signer", id, Map.of("claims", late))
                .then()
                .statusCode(422)
                .body("errors[0].field", equalTo("claims.exp"));
        Map<String, Object> shorter = claims(id);
        long exp = clock.instant().getEpochSecond() + 60;
        shorter.put("exp", exp);
        String t2 = sign("signer", id, Map.of("claims", shorter))
                .then()
                .statusCode(200)
                .extract()
                .path("token");
        assertThat(((Number) Tokens.decode(t2.split("\\.")[1]).get("exp")).longValue())
                .isEqualTo(exp);
    }

    @Test
    void claimsKeyholdOwnsOrForbidsAreRefusedWith422AndNothingIsSigned() {
        String id = Api.createIssuer("claims");
        lifecycle.activeKey(id);
        Map<String, Object> otherIss = claims(id);
        otherIss.put("iss", "https://someone-else.example");
        sign("signer", id, Map.of("claims", otherIss))
                .then()
                .statusCode(422)
                .body("errors[0].field", equalTo("claims.iss"));
        Map<String, Object> sameIss = claims(id);
        sameIss.put("iss", "https://" + id + ".test.example");
        sign("signer", id, Map.of("claims", sameIss)).then().statusCode(200);

        Map<String, Object> noAud = claims(id);
        noAud.remove("aud");
        sign("signer", id, Map.of("claims", noAud))
                .then()
                .statusCode(422)
                .body("errors[0].field", equalTo("claims.aud"));
        Map<String, Object> badAud = claims(id);
        badAud.put("aud", "api://other");
        sign("signer", id, Map.of("claims", badAud)).then().statusCode(422);
        Map<String, Object> mixedAud = claims(id);
        mixedAud.put("aud", List.of("api://" + id, "api://other"));
        sign("signer", id, Map.of("claims", mixedAud)).then().statusCode(422);
        Map<String, Object> arrayAud = claims(id);
        arrayAud.put("aud", List.of("api://" + id));
        sign("signer", id, Map.of("claims", arrayAud)).then().statusCode(200);

        Map<String, Object> iat = claims(id);
        iat.put("iat", 1);
        sign("signer", id, Map.of("claims", iat)).then().statusCode(422).body("errors[0].field", equalTo("claims.iat"));
        Map<String, Object> nbf = claims(id);
        nbf.put("nbf", clock.instant().getEpochSecond() + 7200);
        sign("signer", id, Map.of("claims", nbf)).then().statusCode(422);
        Map<String, Object> jti = claims(id);
        jti.put("jti", 7);
        sign("signer", id, Map.of("claims", jti)).then().statusCode(422);
        sign("signer", id, Map.of()).then().statusCode(422).body("errors[0].field", equalTo("claims"));
        sign("signer", id, "{\"claims\":{},\"extra\":1}").then().statusCode(400);
        sign("signer", id, "{\"claims\":[1]}").then().statusCode(400);
    }

    @Test
    void onlyTheIssuersSignersMaySign() {
        String id = Api.createIssuer("who");
        lifecycle.activeKey(id);
        Map<String, Object> body = Map.of("claims", claims(id));
        sign("signer2", id, body).then().statusCode(403).contentType("application/problem+json");
        sign("alice", id, body).then().statusCode(403);
        sign("admin", id, body).then().statusCode(403);
        given().contentType("application/json")
                .body(body)
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(401);
        sign("signer", "no-such-issuer", body).then().statusCode(404);
        // signer may sign for this issuer but not for one that names only signer2
        Map<String, Object> other = Api.issuerBody(Api.uniqueId("who-b"));
        other.put("signers", List.of("signer2"));
        String b = Api.createIssuer(other);
        lifecycle.activeKey(b);
        Map<String, Object> claimsB = new HashMap<>(claims(b));
        sign("signer", b, Map.of("claims", claimsB)).then().statusCode(403);
        sign("signer2", b, Map.of("claims", claimsB)).then().statusCode(200);
    }

    @Test
    void noActiveKeyIs409EvenWithAPendingOne() {
        String id = Api.createIssuer("nokey");
        sign("signer", id, Map.of("claims", claims(id)))
                .then()
                .statusCode(409)
                .body("type", equalTo("urn:keyhold:problem:no-active-key"));
        Api.rotate(id);
        sign("signer", id, Map.of("claims", claims(id)))
                .then()
                .statusCode(409)
                .body("type", equalTo("urn:keyhold:problem:no-active-key"));
    }

    @Test
    void aKeyPastNotAfterRefusesAtUseTimeThoughTheCacheStillHoldsIt() {
        String id = Api.createIssuer("notafter");
        lifecycle.activeKey(id);
        Instant notAfter = ((java.sql.Timestamp)
                        sql.one("select not_after from signing_key where issuer_id = ? and state = 'ACTIVE'", id))
                .toInstant();
        clock.freezeAt(notAfter.minusSeconds(1));
        sign("signer", id, Map.of("claims", claims(id))).then().statusCode(200);
        clock.advance(Duration.ofSeconds(1));
        // no scheduler ran and no row changed: only the clock moved
        sign("signer", id, Map.of("claims", claims(id)))
                .then()
                .statusCode(409)
                .body("type", equalTo("urn:keyhold:problem:key-not-usable"))
                .body("detail", containsString("notAfter"));
    }

    @Test
    void suspensionRecordedOnThisInstanceStopsSigningAtOnce() {
        String id = Api.createIssuer("susp");
        lifecycle.activeKey(id);
        sign("signer", id, Map.of("claims", claims(id))).then().statusCode(200);
        // what the kill switch's suspend does: change the row and record the change in one transaction
        QuarkusTransaction.requiringNew().run(() -> {
            em.createNativeQuery("update issuer set status = 'SUSPENDED' where id = ?1")
                    .setParameter(1, id)
                    .executeUpdate();
            recorder.record(Change.announced("issuer.suspended", "admin", id, null, Map.of("reason", "test")));
        });
        sign("signer", id, Map.of("claims", claims(id)))
                .then()
                .statusCode(409)
                .body("type", equalTo("urn:keyhold:problem:issuer-suspended"));
    }

    @Test
    void aChangeMadeByAnotherInstanceReachesTheCacheThroughTheOutbox() {
        String id = Api.createIssuer("other-node");
        lifecycle.activeKey(id);
        sign("signer", id, Map.of("claims", claims(id))).then().statusCode(200);
        // Another instance suspended the issuer: this instance only sees the row and the outbox event.
        sql.exec("update issuer set status = 'SUSPENDED' where id = ?", id);
        sql.exec(
                "insert into outbox_event (seq, type, source, issuer_id, subject, event_time, data)"
                        + " values (nextval('outbox_event_seq'), 'keyhold.issuer.suspended', ?, ?, null, now(), '{}')",
                "/issuers/" + id,
                id);
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(100))
                .untilAsserted(() ->
                        sign("signer", id, Map.of("claims", claims(id))).then().statusCode(409));
    }

    @Test
    void theSignPathReadsNoDatabaseOnceTheIssuerIsCached() {
        String id = Api.createIssuer("no-db");
        lifecycle.activeKey(id);
        sign("signer", id, Map.of("claims", claims(id))).then().statusCode(200);
        // Let the outbox follower pass every event of this issuer: a marker event after them invalidates the
        // snapshot once the follower reaches it.
        sql.exec(
                "insert into outbox_event (seq, type, source, issuer_id, subject, event_time, data)"
                        + " values (nextval('outbox_event_seq'), 'test.marker', ?, ?, null, now(), '{}')",
                "/issuers/" + id,
                id);
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> !cache.holds(id));
        sign("signer", id, Map.of("claims", claims(id))).then().statusCode(200);
        assertThat(cache.holds(id)).isTrue();
        // A row changed behind Keyhold's back (no recorded change, no outbox event) is not seen by the sign path:
        // it serves issuer and key from memory. Every real change goes through the recorder (tests above).
        sql.exec("update issuer set audiences = '[\"api://elsewhere\"]' where id = ?", id);
        sign("signer", id, Map.of("claims", claims(id))).then().statusCode(200);
        assertThat(cache.holds(id)).isTrue();
        cache.invalidate(id);
        // Rebuilt, the snapshot sees the write, which no policy version backs (dual control): nothing signs.
        sign("signer", id, Map.of("claims", claims(id)))
                .then()
                .statusCode(409)
                .body("type", equalTo("urn:keyhold:problem:approval-evidence-invalid"));
    }

    @Test
    void aRevokedActiveKeyStopsSigning() {
        String id = Api.createIssuer("revoked-signer");
        String kid = lifecycle.activeKey(id);
        sign("signer", id, Map.of("claims", claims(id))).then().statusCode(200);
        as("alice")
                .body("{\"reason\":\"compromised\"}")
                .post("/v1/keys/" + kid + "/revoke")
                .then()
                .statusCode(200);
        sign("signer", id, Map.of("claims", claims(id)))
                .then()
                .statusCode(409)
                .body("type", equalTo("urn:keyhold:problem:no-active-key"));
    }

    @Test
    void aMissingHsmObjectIsAClearRefusal() {
        String id = Api.createIssuer("hsm-gone");
        String kid = lifecycle.activeKey(id);
        String handle = (String) sql.one("select hsm_handle from signing_key where kid = ?", kid);
        hsm.destroy("default", handle);
        sign("signer", id, Map.of("claims", claims(id)))
                .then()
                .statusCode(409)
                .contentType("application/problem+json")
                .body("type", equalTo("urn:keyhold:problem:key-material-missing"));
    }

    @Test
    void concurrentSigningAllSucceedsAndIsCounted() throws Exception {
        String id = Api.createIssuer("many");
        String kid = lifecycle.activeKey(id);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> fs = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                fs.add(pool.submit(() -> Tokens.sign(id, claims(id))));
            }
            for (Future<String> f : fs) {
                assertThat(Tokens.verdict(f.get(60, TimeUnit.SECONDS))).isNull();
            }
        } finally {
            pool.shutdownNow();
        }
        String metrics = given().get("/q/metrics").asString();
        assertThat(metrics).containsPattern("keyhold_signing_tokens_total\\{issuer=\"" + id + "\"[^}]*} 40\\.0");
        assertThat(kid).isNotBlank();
    }
}
