package dev.keyhold.trust;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.trust.TrustBundleApiTest.anchor;
import static dev.keyhold.trust.TrustBundleApiTest.current;
import static dev.keyhold.trust.TrustBundleConsumer.Reason;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Trust key rotation over real PostgreSQL and SoftHSM2: a NEXT key announced before it signs, M-of-N approval by the
 * governing issuer's custodians (never the requester), the takeover bundle signed by both keys, the old key silent
 * afterwards, and a validator that pinned only the old key following the takeover to the new one.
 */
@QuarkusTest
class TrustKeyRotationTest {

    static final String GOVERNING = "trust-governance";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @Inject
    Lifecycle lifecycle;

    @Inject
    TrustBundleSigner signer;

    @BeforeEach
    void governingIssuer() {
        clock.freezeAt(clock.instant());
        if (sql.count("select count(*) from issuer where id = ?", GOVERNING) == 0) {
            Api.createIssuer(Api.issuerBody(GOVERNING));
        }
    }

    @AfterEach
    void resetClock() {
        clock.reset();
    }

    /** Proposes a rotation as {@code requester}; returns the request id. */
    static String propose(String requester) {
        return as(requester)
                .body(Map.of("reason", "yearly trust key rotation"))
                .post("/v1/trust-anchor/rotations")
                .then()
                .statusCode(201)
                .body("kind", equalTo("TRUST_KEY_ROTATION"))
                .extract()
                .path("id");
    }

    static Response decide(String custodian, String request) {
        return dev.keyhold.testsupport.Api.approve(custodian, request);
    }

    @Test
    @SuppressWarnings("unchecked")
    void theNextKeyIsAnnouncedThenTakesOverWithADualSignedBundleAndTheOldKeyNeverSignsAgain() throws Exception {
        String issuer = Api.createIssuer("tk-rot");
        String active = lifecycle.activeKey(issuer);
        String before = current(issuer);
        List<JWK> pinned = anchor();
        String oldKid = JWSObject.parse(before).getHeader().getKeyID();
        assertThat(pinned).extracting(JWK::getKeyID).containsExactly(oldKid);
        TrustBundleConsumer validator = new TrustBundleConsumer(pinned, issuer, clock);
        assertThat(validator.accept(before)).isEqualTo(Reason.ACCEPTED);

        // Only an admin or a custodian of the governing issuer may propose; a refusal generates no key.
        long keysBefore = sql.count("select count(*) from trust_key");
        as("dave")
                .body(Map.of("reason", "mine"))
                .post("/v1/trust-anchor/rotations")
                .then()
                .statusCode(403);
        as("signer")
                .body(Map.of("reason", "mine"))
                .post("/v1/trust-anchor/rotations")
                .then()
                .statusCode(403);
        assertThat(sql.count("select count(*) from trust_key")).isEqualTo(keysBefore);
        // Proposed by alice, a custodian of the governing issuer: the NEXT key is generated and announced at once.
        String request = propose("alice");
        assertThat(propose409()).isEqualTo("a trust key rotation is already awaiting decisions");
        String nextKid = as("admin")
                .get("/v1/activations/" + request)
                .then()
                .statusCode(200)
                .extract()
                .path("proposed.nextTrustKid");
        Map<String, Object> anchorDoc =
                JSON.readValue(given().get("/v1/trust-anchor").asString(), Map.class);
        assertThat((List<Map<String, Object>>) anchorDoc.get("keys"))
                .extracting(k -> k.get("kid") + "/" + k.get("status"))
                .containsExactly(oldKid + "/CURRENT", nextKid + "/NEXT");
        assertThat(sql.one("select count(*) from trust_key where kid = ? and state = 'NEXT'", nextKid))
                .isEqualTo(1L);
        // Announced, not signing: a change now is signed by the old key alone.
        Api.rotate(issuer);
        assertThat(JWSObject.parse(current(issuer)).getHeader().getKeyID()).isEqualTo(oldKid);

        // The requester cannot approve, a custodian of another issuer cannot, and one approval is not enough.
        decide("alice", request).then().statusCode(403);
        Api.createIssuer(withCustodians(Api.issuerBody(Api.uniqueId("tk-other")), List.of("dave", "erin")));
        decide("dave", request).then().statusCode(403);
        decide("bob", request).then().statusCode(200).body("state", equalTo("OPEN"));
        decide("bob", request).then().statusCode(409);
        assertThat(sql.one("select state from trust_key where kid = ?", oldKid)).isEqualTo("CURRENT");

        clock.advance(Duration.ofSeconds(1));
        Instant takeover = clock.instant();
        decide("carol", request).then().statusCode(200).body("state", equalTo("EXECUTED"));

        assertThat(anchor()).extracting(JWK::getKeyID).containsExactly(nextKid);
        assertThat(sql.one("select state from trust_key where kid = ?", oldKid)).isEqualTo("RETIRED");

        // The takeover bundle: JWS JSON serialization, two signatures over one payload, verifying under each key.
        String dual = given().get("/issuers/" + issuer + "/trust-bundle")
                .then()
                .statusCode(200)
                .contentType("application/jose+json")
                .extract()
                .asString();
        Map<String, Object> json = JSON.readValue(dual, Map.class);
        List<Map<String, Object>> sigs = (List<Map<String, Object>>) json.get("signatures");
        assertThat(sigs).hasSize(2);
        JWK oldJwk = pinned.get(0);
        JWK newJwk = anchor().get(0);
        JWSObject byOld = JWSObject.parse(sigs.get(0).get("protected") + "." + json.get("payload") + "."
                + sigs.get(0).get("signature"));
        JWSObject byNew = JWSObject.parse(sigs.get(1).get("protected") + "." + json.get("payload") + "."
                + sigs.get(1).get("signature"));
        assertThat(byOld.getHeader().getKeyID()).isEqualTo(oldKid);
        assertThat(byNew.getHeader().getKeyID()).isEqualTo(nextKid);
        assertThat(byOld.verify(new ECDSAVerifier((ECKey) oldJwk))).isTrue();
        assertThat(byNew.verify(new ECDSAVerifier((ECKey) newJwk))).isTrue();
        assertThat(byOld.verify(new ECDSAVerifier((ECKey) newJwk)))
                .as("each signature is its own key's")
                .isFalse();
        assertThat(byNew.getPayload().toJSONObject().get("sequence"))
                .isEqualTo(byOld.getPayload().toJSONObject().get("sequence"));
        assertThat(((Number) byNew.getPayload().toJSONObject().get("iat")).longValue())
                .isEqualTo(takeover.getEpochSecond());

        // The validator that pinned only the old key follows the takeover to the new key.
        assertThat(validator.accept(dual)).isEqualTo(Reason.ACCEPTED);
        assertThat(validator.anchors()).extracting(JWK::getKeyID).containsExactly(nextKid);

        // Later bundles are the new key's alone, and the old key signs nothing after the takeover, re-signatures
        // near expiry included.
        as("bob").body(Map.of("reason", "test")).post("/v1/keys/" + Api.rotate(issuer) + "/revoke");
        String later = current(issuer);
        assertThat(JWSObject.parse(later).getHeader().getKeyID()).isEqualTo(nextKid);
        assertThat(validator.accept(later)).isEqualTo(Reason.ACCEPTED);
        clock.advance(Duration.ofHours(20));
        signer.signDue(Duration.ZERO);
        java.sql.Timestamp at = java.sql.Timestamp.from(takeover);
        assertThat(sql.count(
                        "select count(*) from trust_bundle_signature where signed_at > ? and (key_id = ? or co_key_id = ?)",
                        at,
                        oldKid,
                        oldKid))
                .as("signatures by the old key after the takeover")
                .isZero();
        assertThat(sql.count(
                        "select count(*) from trust_bundle_signature where signed_at >= ? and key_id = ?", at, oldKid))
                .isZero();
        assertThat(sql.count(
                        "select count(*) from trust_bundle_signature where signed_at > ? and key_id = ?", at, nextKid))
                .as("later bundles and re-signatures")
                .isGreaterThanOrEqualTo(2);
        assertThat(active).isNotNull();
    }

    private static Map<String, Object> withCustodians(Map<String, Object> body, List<String> custodians) {
        body.put("custodians", new java.util.ArrayList<>(custodians));
        return body;
    }

    private static String propose409() {
        return as("admin")
                .body(Map.of())
                .post("/v1/trust-anchor/rotations")
                .then()
                .statusCode(409)
                .extract()
                .path("detail");
    }

    @Test
    void aBundleSignedOnlyByAnUnknownKeyIsRefused() throws Exception {
        String issuer = Api.createIssuer("tk-unknown");
        String genuine = current(issuer);
        TrustBundleConsumer validator = new TrustBundleConsumer(anchor(), issuer, clock);
        ECKey forger = new ECKeyGenerator(Curve.P_256).keyIDFromThumbprint(true).generate();
        JWSObject forged = new JWSObject(
                new JWSHeader.Builder(JWSAlgorithm.ES256)
                        .keyID(forger.getKeyID())
                        .type(new JOSEObjectType("keyhold-trust-bundle+jwt"))
                        .build(),
                new Payload(JWSObject.parse(genuine).getPayload().toJSONObject()));
        forged.sign(new ECDSASigner(forger));
        assertThat(validator.accept(forged.serialize())).isEqualTo(Reason.UNKNOWN_KEY);
        // A forged takeover: the forger's key named as successor in a signature no pinned key made.
        JWSHeader h = new JWSHeader.Builder(JWSAlgorithm.ES256)
                .keyID(forger.getKeyID())
                .type(new JOSEObjectType("keyhold-trust-bundle+jwt"))
                .customParam("successor", forger.toPublicJWK().toJSONObject())
                .build();
        JWSObject one = new JWSObject(h, forged.getPayload());
        one.sign(new ECDSASigner(forger));
        String[] p = one.serialize().split("\\.");
        String fakeDual = JSON.writeValueAsString(Map.of(
                "payload",
                p[1],
                "signatures",
                List.of(Map.of("protected", p[0], "signature", p[2]), Map.of("protected", p[0], "signature", p[2]))));
        assertThat(validator.accept(fakeDual)).isEqualTo(Reason.UNKNOWN_KEY);
        assertThat(validator.anchors()).extracting(JWK::getKeyID).doesNotContain(forger.getKeyID());
        assertThat(validator.accept(genuine)).isEqualTo(Reason.ACCEPTED);
    }
}
