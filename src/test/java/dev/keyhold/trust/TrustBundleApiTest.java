package dev.keyhold.trust;

import static dev.keyhold.testsupport.Api.as;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
class TrustBundleApiTest {

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @Inject
    Lifecycle lifecycle;

    @Inject
    TrustBundleSigner signer;

    @Inject
    dev.keyhold.lifecycle.Sweeper sweeper;

    @AfterEach
    void resetClock() {
        clock.reset();
    }

    static List<JWK> anchor() throws Exception {
        String body =
                given().get("/v1/trust-anchor").then().statusCode(200).extract().asString();
        return JWKSet.parse(body).getKeys();
    }

    static String current(String issuer) {
        return given().get("/issuers/" + issuer + "/trust-bundle")
                .then()
                .statusCode(200)
                .contentType("application/jwt")
                .extract()
                .asString();
    }

    static Map<String, Object> payload(String jws) throws Exception {
        return JWSObject.parse(jws).getPayload().toJSONObject();
    }

    static long sequence(String jws) throws Exception {
        return ((Number) payload(jws).get("sequence")).longValue();
    }

    static String sha256(String s) throws Exception {
        return HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void everyChangeOfTrustMetadataPublishesTheNextSignedChainedBundle() throws Exception {
        TrustBundleConsumer consumer = new TrustBundleConsumer(anchor(), "tb-unused", clock);
        String id = Api.createIssuer("tb");
        consumer = new TrustBundleConsumer(anchor(), id, clock);
        String b1 = current(id);
        assertThat(consumer.accept(b1)).isEqualTo(TrustBundleConsumer.Reason.ACCEPTED);
        Map<String, Object> p1 = payload(b1);
        assertThat(p1)
                .containsEntry("sub", id)
                .containsEntry("issuerUri", "https://" + id + ".test.example")
                .containsEntry("previous", null)
                .containsEntry("rollbackOf", null)
                .containsEntry("audiences", List.of("api://" + id))
                .containsEntry("algorithms", List.of("ES256"))
                .containsEntry("keys", List.of())
                .containsEntry("revoked", List.of())
                .containsEntry("refreshHint", 60L);
        assertThat(((Number) p1.get("exp")).longValue() - ((Number) p1.get("iat")).longValue())
                .isEqualTo(86400);
        assertThat(JWSObject.parse(b1).getHeader().getType().getType()).isEqualTo("keyhold-trust-bundle+jwt");

        String kid = Api.rotate(id);
        String b2 = current(id);
        assertThat(consumer.accept(b2)).isEqualTo(TrustBundleConsumer.Reason.ACCEPTED);
        assertThat(sequence(b2)).isEqualTo(sequence(b1) + 1);
        assertThat(payload(b2).get("previous")).isEqualTo(sha256(b1));
        assertThat(BundleContent.kids(payload(b2))).containsExactly(kid);

        // Approvals and activation change no trust metadata: no new bundle.
        String active = lifecycle.activeKey(id);
        assertThat(active).isEqualTo(kid);
        assertThat(sequence(current(id))).isEqualTo(sequence(b2));

        // A policy change of the audiences does.
        String req = as("admin")
                .body(Map.of("audiences", List.of("api://" + id, "api://other-" + id)))
                .post("/v1/issuers/" + id + "/policy-changes")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
        approve(req, "alice", "bob");
        String b3 = current(id);
        assertThat(sequence(b3)).isEqualTo(sequence(b2) + 1);
        assertThat(payload(b3).get("audiences")).isEqualTo(List.of("api://" + id, "api://other-" + id));

        // A revocation: the key leaves keys and enters revoked.
        String next = Api.rotate(id);
        as("alice")
                .body(Map.of("reason", "lost laptop"))
                .post("/v1/keys/" + next + "/revoke")
                .then()
                .statusCode(200);
        String b5 = current(id);
        assertThat(sequence(b5)).isEqualTo(sequence(b3) + 2);
        assertThat(BundleContent.kids(payload(b5))).containsExactly(kid);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> revoked =
                (List<Map<String, Object>>) payload(b5).get("revoked");
        assertThat(revoked).singleElement().satisfies(r -> {
            assertThat(r)
                    .containsEntry("kid", next)
                    .containsEntry("reason", "lost laptop")
                    .containsKey("revokedAt");
        });
        assertThat(consumer.accept(b5)).isEqualTo(TrustBundleConsumer.Reason.ACCEPTED);

        // Earlier bundles byte for byte; each chained to the one before.
        for (long n = 1; n <= sequence(b5); n++) {
            String at = given().get("/issuers/" + id + "/trust-bundles/" + n)
                    .then()
                    .statusCode(200)
                    .header("Cache-Control", equalTo("public, max-age=31536000, immutable"))
                    .extract()
                    .asString();
            assertThat(sequence(at)).isEqualTo(n);
            if (n > 1) {
                String before = given().get("/issuers/" + id + "/trust-bundles/" + (n - 1))
                        .asString();
                assertThat(payload(at).get("previous")).isEqualTo(sha256(before));
            }
        }
        assertThat(given().get("/issuers/" + id + "/trust-bundles/1").asString())
                .isEqualTo(b1);
        given().get("/issuers/" + id + "/trust-bundles/99")
                .then()
                .statusCode(404)
                .contentType("application/problem+json");
        given().get("/issuers/nobody-here/trust-bundle").then().statusCode(404);

        // Audit records and events for every bundle published.
        long published = sql.count(
                "select count(*) from audit_record where issuer_id = ? and action = 'trust.bundle-published'", id);
        long events = sql.count(
                "select count(*) from outbox_event where issuer_id = ? and type = 'keyhold.trust.bundle-published'",
                id);
        assertThat(published).isEqualTo(sequence(b5));
        assertThat(events).isEqualTo(sequence(b5));
    }

    @Test
    void servedLikeTheJwksWithStrongEtagAnd304() {
        String id = Api.createIssuer("tb-etag");
        Response r = given().get("/issuers/" + id + "/trust-bundle");
        r.then()
                .statusCode(200)
                .header("Cache-Control", equalTo("public, max-age=60"))
                .header("ETag", startsWith("\""));
        String etag = r.header("ETag");
        given().header("If-None-Match", etag)
                .get("/issuers/" + id + "/trust-bundle")
                .then()
                .statusCode(304);
        Api.rotate(id);
        given().header("If-None-Match", etag)
                .get("/issuers/" + id + "/trust-bundle")
                .then()
                .statusCode(200);
    }

    @Test
    void reSignedBeforeExpiryWithNewIatAndSameContent() throws Exception {
        String id = Api.createIssuer("tb-resign");
        String first = current(id);
        TrustBundleConsumer consumer = new TrustBundleConsumer(anchor(), id, clock);
        assertThat(consumer.accept(first)).isEqualTo(TrustBundleConsumer.Reason.ACCEPTED);
        clock.advance(Duration.ofHours(17));
        signer.resignDue();
        assertThat(current(id)).as("not yet within resign-before (6 h)").isEqualTo(first);
        clock.advance(Duration.ofHours(2));
        assertThat(signer.resignDue()).isGreaterThanOrEqualTo(1);
        String again = current(id);
        assertThat(again).isNotEqualTo(first);
        assertThat(sequence(again)).isEqualTo(sequence(first));
        assertThat(((Number) payload(again).get("iat")).longValue())
                .isGreaterThan(((Number) payload(first).get("iat")).longValue());
        assertThat(consumer.accept(again)).isEqualTo(TrustBundleConsumer.Reason.ACCEPTED);
        // The historical URL keeps the bundle as first signed.
        assertThat(given().get("/issuers/" + id + "/trust-bundles/" + sequence(first))
                        .asString())
                .isEqualTo(first);
        // A frozen validator (one that kept the first) would now hold an expired bundle.
        clock.advance(Duration.ofHours(6));
        assertThat(new TrustBundleConsumer(anchor(), id, clock).accept(first))
                .isEqualTo(TrustBundleConsumer.Reason.EXPIRED);
    }

    @Test
    void bundlesAndTheirSignaturesAreImmutableInTheDatabase() {
        String id = Api.createIssuer("tb-immutable");
        current(id);
        for (String attack : List.of(
                "update trust_bundle set content = '{}' where issuer_id = ?",
                "update trust_bundle set previous = 'x' where issuer_id = ?",
                "delete from trust_bundle_signature where issuer_id = ?",
                "update trust_bundle_signature set jws = 'x' where issuer_id = ?")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> sql.exec(attack, id))
                    .as(attack)
                    .isInstanceOf(Sql.SqlFailure.class)
                    .hasMessageContaining("immutable");
        }
    }

    @Test
    void theSweepsRecordedUnpublishStepIsTheChangeThatDropsARetiredKey() throws Exception {
        String id = Api.createIssuer("tb-unpublish");
        String a = lifecycle.activeKey(id);
        String b = lifecycle.activeKey(id);
        assertThat(BundleContent.kids(payload(current(id)))).containsExactly(b, a);
        long before = sequence(current(id));
        clock.advance(Duration.ofHours(2));
        // The JWKS has dropped A by the clock; the bundle waits for the recorded step.
        assertThat(sequence(current(id))).isEqualTo(before);
        sweeper.sweep(List.of(id));
        assertThat(sql.one("select unpublished_at is not null from signing_key where kid = ?", a))
                .isEqualTo(true);
        String after = current(id);
        assertThat(sequence(after)).isEqualTo(before + 1);
        assertThat(BundleContent.kids(payload(after))).containsExactly(b);
    }

    static void approve(String request, String... custodians) {
        for (String c : custodians) {
            dev.keyhold.testsupport.Api.approve(c, request).then().statusCode(200);
        }
    }
}
