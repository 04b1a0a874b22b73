package dev.keyhold.activation;

import static dev.keyhold.testsupport.Api.as;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.StateFingerprint;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Decisions on key activation requests over the API: who decides, once, and when the key goes live. */
@QuarkusTest
class DecisionApiTest {

    @Inject
    Sql sql;

    @Inject
    dev.keyhold.lifecycle.Sweeper sweeper;

    @Inject
    MutableClock clock;

    @Inject
    StateFingerprint fingerprint;

    @AfterEach
    void reset() {
        clock.reset();
    }

    static Response decide(String user, String request, String decision, String comment) {
        return dev.keyhold.testsupport.Api.decide(user, request, decision, comment);
    }

    String requestOf(String kid) {
        return (String)
                sql.one("select id::text from activation_request where kid = ? and state in ('OPEN','APPROVED')", kid);
    }

    Instant activatableAt(String kid) {
        return ((Timestamp) sql.one("select activatable_at from signing_key where kid = ?", kid)).toInstant();
    }

    String keyState(String kid) {
        return (String) sql.one("select state from signing_key where kid = ?", kid);
    }

    long events(String issuer, String type) {
        return sql.count("select count(*) from outbox_event where issuer_id = ? and type = ?", issuer, type);
    }

    long denials(String actor, String issuer, String action) {
        return sql.count(
                "select count(*) from audit_record where actor = ? and issuer_id = ? and action = ? and outcome = 'denied'",
                actor,
                issuer,
                action);
    }

    @Test
    void mApprovalsFromDistinctCustodiansActivateTheKeyAtActivatableAtAndNeverEarly() {
        String id = Api.createIssuer("dual");
        String kid = Api.rotate(id);
        String request = requestOf(kid);
        Instant activatable = activatableAt(kid);
        clock.freezeAt(activatable.minusSeconds(60));

        as("alice")
                .get("/v1/activations/" + request)
                .then()
                .statusCode(200)
                .body("state", equalTo("OPEN"))
                .body("kind", equalTo("KEY_ACTIVATION"))
                .body("kid", equalTo(kid))
                .body("issuerId", equalTo(id))
                .body("requester", equalTo("scheduler"))
                .body("approvalsRequired", equalTo(2))
                .body("approvals", equalTo(0))
                .body("expiresAt", org.hamcrest.Matchers.notNullValue());
        decide("alice", request, "approve", "checked the fingerprint")
                .then()
                .statusCode(200)
                .body("state", equalTo("OPEN"))
                .body("approvals", equalTo(1))
                .body("decisions[0].custodian", equalTo("alice"))
                .body("decisions[0].decision", equalTo("approve"))
                .body("decisions[0].comment", equalTo("checked the fingerprint"))
                .body("decisions[0].decidedAt", org.hamcrest.Matchers.notNullValue());
        // a custodian decides once, whichever way
        decide("alice", request, "approve", null)
                .then()
                .statusCode(409)
                .body("type", equalTo("urn:keyhold:problem:already-decided"));
        decide("alice", request, "reject", null).then().statusCode(409);
        assertThat(sql.count("select count(*) from activation_decision where request_id = ?::uuid", request))
                .isEqualTo(1);

        clock.freezeAt(activatable.minusSeconds(1));
        decide("bob", request, "approve", null)
                .then()
                .statusCode(200)
                .body("state", equalTo("APPROVED"))
                .body("approvals", equalTo(2));
        assertThat(events(id, "keyhold.activation.approved")).isEqualTo(1);
        // approved one second early: nothing a reader or the issuer view does may activate it yet
        as("auditor").get("/v1/activations/" + request).then().statusCode(200).body("state", equalTo("APPROVED"));
        as("auditor").get("/v1/issuers/" + id).then().statusCode(200).body("activeKid", equalTo(null));
        assertThat(keyState(kid)).isEqualTo("PENDING");

        clock.advance(Duration.ofSeconds(1));
        // reads never write: the read shows the activation as due; the sweep carries it out
        as("alice")
                .get("/v1/activations/" + request)
                .then()
                .statusCode(200)
                .body("state", equalTo("APPROVED"))
                .body("due", equalTo("EXECUTED"));
        assertThat(keyState(kid)).isEqualTo("PENDING");
        sweeper.sweep(List.of(id));
        as("alice")
                .get("/v1/activations/" + request)
                .then()
                .statusCode(200)
                .body("state", equalTo("EXECUTED"))
                .body("due", equalTo(null));
        assertThat(keyState(kid)).isEqualTo("ACTIVE");
        assertThat(sql.one("select activated_at from signing_key where kid = ?", kid))
                .isEqualTo(Timestamp.from(activatable));
        assertThat(events(id, "keyhold.key.activated")).isEqualTo(1);
        // a late decision on a finished request
        decide("carol", request, "approve", null)
                .then()
                .statusCode(409)
                .body("type", equalTo("urn:keyhold:problem:request-not-open"));
        as("auditor").get("/v1/issuers/" + id).then().statusCode(200).body("activeKid", equalTo(kid));
        assertThat(events(id, "keyhold.key.activated")).isEqualTo(1);
    }

    @Test
    void anApprovalAfterActivatableAtActivatesAtOnceAndRetiresThePredecessor() {
        String id = Api.createIssuer("dual-now");
        String first = Api.rotate(id);
        String r1 = requestOf(first);
        clock.freezeAt(activatableAt(first));
        decide("carol", r1, "approve", null).then().statusCode(200).body("state", equalTo("OPEN"));
        decide("bob", r1, "approve", null).then().statusCode(200).body("state", equalTo("EXECUTED"));
        assertThat(keyState(first)).isEqualTo("ACTIVE");
        assertThat(sql.one("select actor from audit_record where kid = ? and action = 'key.activated'", first))
                .isEqualTo("bob");

        String second = Api.rotate(id);
        String r2 = requestOf(second);
        clock.freezeAt(activatableAt(second).plusSeconds(5));
        decide("alice", r2, "approve", null).then().statusCode(200);
        decide("carol", r2, "approve", null).then().statusCode(200).body("state", equalTo("EXECUTED"));
        assertThat(keyState(second)).isEqualTo("ACTIVE");
        assertThat(keyState(first)).isEqualTo("RETIRED");
        assertThat(sql.count("select count(*) from signing_key where issuer_id = ? and state = 'ACTIVE'", id))
                .isEqualTo(1);
    }

    @Test
    void theSweepNotTheIssuerViewActivatesADueApprovedKeyExactlyAtActivatableAt() {
        String id = Api.createIssuer("dual-look");
        String kid = Api.rotate(id);
        String request = requestOf(kid);
        decide("alice", request, "approve", null).then().statusCode(200);
        decide("bob", request, "approve", null).then().statusCode(200).body("state", equalTo("APPROVED"));
        clock.freezeAt(activatableAt(kid).minusSeconds(1));
        as("signer").get("/v1/issuers/" + id).then().statusCode(200).body("activeKid", equalTo(null));
        assertThat(keyState(kid)).isEqualTo("PENDING");
        clock.advance(Duration.ofSeconds(1));
        as("signer").get("/v1/issuers/" + id).then().statusCode(200).body("activeKid", equalTo(null));
        assertThat(keyState(kid)).isEqualTo("PENDING");
        sweeper.sweep(List.of(id));
        as("signer").get("/v1/issuers/" + id).then().statusCode(200).body("activeKid", equalTo(kid));
        assertThat(sql.one("select state from activation_request where id = ?::uuid", request))
                .isEqualTo("EXECUTED");
        assertThat(sql.one("select actor from audit_record where kid = ? and action = 'key.activated'", kid))
                .isEqualTo(dev.keyhold.lifecycle.LifecycleSteps.ACTOR);
    }

    @Test
    void oneRejectionEndsTheRequest() {
        String id = Api.createIssuer("dual-rej");
        String kid = Api.rotate(id);
        String request = requestOf(kid);
        decide("alice", request, "approve", null).then().statusCode(200);
        decide("bob", request, "reject", "wrong partition")
                .then()
                .statusCode(200)
                .body("state", equalTo("REJECTED"))
                .body("decisions.decision", hasItem("reject"));
        assertThat(events(id, "keyhold.activation.rejected")).isEqualTo(1);
        decide("carol", request, "approve", null)
                .then()
                .statusCode(409)
                .body("type", equalTo("urn:keyhold:problem:request-not-open"));
        clock.freezeAt(activatableAt(kid).plusSeconds(10));
        as("admin").get("/v1/issuers/" + id).then().statusCode(200).body("activeKid", equalTo(null));
        assertThat(keyState(kid)).isEqualTo("PENDING");
        // a rotation puts the same key to the custodians again, as a fresh request
        Api.rotate(id);
        assertThat(requestOf(kid)).isNotEqualTo(request);
    }

    @Test
    void pastItsExpiryARequestIsShownDueAndTheNextDecisionRecordsItExpired() {
        String id = Api.createIssuer("dual-exp");
        String kid = Api.rotate(id);
        String request = requestOf(kid);
        decide("alice", request, "approve", null).then().statusCode(200);
        Instant expires = ((Timestamp) sql.one("select expires_at from activation_request where id = ?::uuid", request))
                .toInstant();
        clock.freezeAt(expires.minusSeconds(1));
        as("auditor").get("/v1/activations/" + request).then().statusCode(200).body("state", equalTo("OPEN"));
        clock.advance(Duration.ofSeconds(1));
        as("auditor")
                .get("/v1/activations/" + request)
                .then()
                .statusCode(200)
                .body("state", equalTo("OPEN"))
                .body("due", equalTo("EXPIRED"));
        assertThat(events(id, "keyhold.activation.expired")).isZero();
        decide("bob", request, "approve", null)
                .then()
                .statusCode(409)
                .body("type", equalTo("urn:keyhold:problem:request-expired"));
        assertThat(sql.one("select state from activation_request where id = ?::uuid", request))
                .isEqualTo("EXPIRED");
        assertThat(events(id, "keyhold.activation.expired")).isEqualTo(1);
        // the losing approval was not recorded; looking again changes nothing
        assertThat(sql.count("select count(*) from activation_decision where request_id = ?::uuid", request))
                .isEqualTo(1);
        decide("carol", request, "approve", null)
                .then()
                .statusCode(409)
                .body("type", equalTo("urn:keyhold:problem:request-not-open"));
        as("auditor").get("/v1/activations/" + request).then().statusCode(200).body("state", equalTo("EXPIRED"));
        assertThat(events(id, "keyhold.activation.expired")).isEqualTo(1);
        assertThat(keyState(kid)).isEqualTo("PENDING");
    }

    @Test
    void listingShowsOverdueRequestsDueAndTheSweepRecordsThemExpired() {
        String id = Api.createIssuer("dual-lexp");
        String kid = Api.rotate(id);
        String request = requestOf(kid);
        clock.advance(Duration.ofDays(3));
        as("admin")
                .get("/v1/activations?issuer=" + id + "&state=OPEN")
                .then()
                .statusCode(200)
                .body("id", hasItem(request))
                .body("find { it.id == '" + request + "' }.due", equalTo("EXPIRED"));
        assertThat(events(id, "keyhold.activation.expired")).isZero();
        sweeper.sweep(List.of(id));
        as("admin")
                .get("/v1/activations?issuer=" + id + "&state=OPEN")
                .then()
                .statusCode(200)
                .body("id", not(hasItem(request)));
        as("admin")
                .get("/v1/activations?issuer=" + id + "&state=expired")
                .then()
                .statusCode(200)
                .body("id", hasItem(request));
        assertThat(events(id, "keyhold.activation.expired")).isEqualTo(1);
    }

    @Test
    void onlyTheIssuersCustodiansDecideAndRefusalsAreAuditedAndChangeNothing() {
        Map<String, Object> body = Api.issuerBody(Api.uniqueId("dual-scope"));
        String id = Api.createIssuer(body);
        String kid = Api.rotate(id);
        String request = requestOf(kid);
        String before = fingerprint.of(id);
        // mallory is a custodian, but not of this issuer
        decide("mallory", request, "approve", null).then().statusCode(403).contentType("application/problem+json");
        assertThat(denials("mallory", id, "activation.decide")).isEqualTo(1);
        // other roles are refused by role
        for (String who : List.of("admin", "scheduler", "signer", "auditor")) {
            decide(who, request, "approve", null).then().statusCode(403);
        }
        Api.anonymous()
                .body("{\"decision\":\"approve\"}")
                .post("/v1/activations/" + request + "/decisions")
                .then()
                .statusCode(401);
        assertThat(fingerprint.of(id)).isEqualTo(before);
    }

    @Test
    void theRequesterNeverDecidesEvenWhenTheyAreACustodian() throws Exception {
        String id = Api.createIssuer("dual-self");
        // alice holds both roles in the identity provider and rotates as an admin
        String token = token("alice", List.of("admin", "custodian"));
        String kid = given().auth()
                .oauth2(token)
                .contentType("application/json")
                .body("{}")
                .post("/v1/issuers/" + id + "/rotations")
                .then()
                .statusCode(201)
                .extract()
                .path("kid");
        String request = requestOf(kid);
        as("alice").get("/v1/activations/" + request).then().body("requester", equalTo("alice"));
        String before = fingerprint.of(id);
        decide("alice", request, "approve", null)
                .then()
                .statusCode(403)
                .body("detail", org.hamcrest.Matchers.containsString("requested"));
        given().auth()
                .oauth2(token)
                .contentType("application/json")
                .body("{\"decision\":\"approve\"}")
                .post("/v1/activations/" + request + "/decisions")
                .then()
                .statusCode(403);
        assertThat(denials("alice", id, "activation.decide")).isEqualTo(2);
        assertThat(fingerprint.of(id)).isEqualTo(before);
        // two others are still needed
        decide("bob", request, "approve", null).then().statusCode(200).body("state", equalTo("OPEN"));
        decide("carol", request, "approve", null).then().statusCode(200).body("state", equalTo("APPROVED"));
    }

    @Test
    void badDecisionsAreRefusedAndChangeNothing() {
        String id = Api.createIssuer("dual-bad");
        String request = requestOf(Api.rotate(id));
        String before = fingerprint.of(id);
        decide("alice", request, "maybe", null).then().statusCode(422).body("errors[0].field", equalTo("decision"));
        decide("alice", request, "APPROVE", null).then().statusCode(422);
        decide("alice", request, null, null).then().statusCode(422);
        decide("alice", request, "approve", "x".repeat(1001))
                .then()
                .statusCode(422)
                .body("errors[0].field", equalTo("comment"));
        as("alice")
                .body("{\"decision\":")
                .post("/v1/activations/" + request + "/decisions")
                .then()
                .statusCode(400);
        as("alice")
                .body("{\"decision\":\"approve\",\"weight\":3}")
                .post("/v1/activations/" + request + "/decisions")
                .then()
                .statusCode(400);
        decide("alice", "not-a-uuid", "approve", null).then().statusCode(404);
        decide("alice", java.util.UUID.randomUUID().toString(), "approve", null)
                .then()
                .statusCode(404);
        assertThat(fingerprint.of(id)).isEqualTo(before);
        decide("alice", request, "approve", "y".repeat(1000)).then().statusCode(200);
    }

    @Test
    void custodiansReadOnlyTheirIssuersRequests() {
        Map<String, Object> other = Api.issuerBody(Api.uniqueId("dual-other"));
        other.put("custodians", List.of("dave", "erin", "mallory"));
        String theirs = Api.createIssuer(other);
        String ours = Api.createIssuer("dual-ours");
        String theirRequest = requestOf(Api.rotate(theirs));
        String ourRequest = requestOf(Api.rotate(ours));

        as("alice")
                .get("/v1/activations?state=OPEN")
                .then()
                .statusCode(200)
                .body("id", hasItem(ourRequest))
                .body("id", not(hasItem(theirRequest)));
        as("alice").get("/v1/activations?issuer=" + theirs).then().statusCode(403);
        as("alice").get("/v1/activations/" + theirRequest).then().statusCode(403);
        as("mallory")
                .get("/v1/activations?issuer=" + theirs)
                .then()
                .statusCode(200)
                .body("id", hasItem(theirRequest));
        as("mallory").get("/v1/activations/" + ourRequest).then().statusCode(403);
        for (String reader : List.of("admin", "auditor")) {
            as(reader)
                    .get("/v1/activations?state=OPEN&limit=500")
                    .then()
                    .statusCode(200)
                    .body("id", hasItem(ourRequest))
                    .body("id", hasItem(theirRequest));
        }
        as("admin")
                .get("/v1/activations?issuer=" + ours + "&state=OPEN")
                .then()
                .statusCode(200)
                .body("size()", equalTo(1))
                .body("[0].id", equalTo(ourRequest));
        as("admin").get("/v1/activations?state=SLEEPING").then().statusCode(400);
        as("admin").get("/v1/activations?limit=0").then().statusCode(400);
        as("admin").get("/v1/activations?issuer=no-such-issuer").then().statusCode(404);
        as("admin").get("/v1/activations/" + java.util.UUID.randomUUID()).then().statusCode(404);
        as("signer").get("/v1/activations").then().statusCode(403);
        as("scheduler").get("/v1/activations/" + ourRequest).then().statusCode(403);
        Api.anonymous().get("/v1/activations").then().statusCode(401);
    }

    @Test
    void oddPathAndQueryValuesAre404NotErrors() {
        for (String odd : List.of("UPPER", "a%00b", "x".repeat(200), "a;b", "%F0%9F%94%91")) {
            as("admin")
                    .urlEncodingEnabled(false)
                    .get("/v1/activations/" + odd)
                    .then()
                    .statusCode(404);
            as("admin")
                    .urlEncodingEnabled(false)
                    .get("/v1/activations?issuer=" + odd)
                    .then()
                    .statusCode(404);
            as("admin")
                    .urlEncodingEnabled(false)
                    .body("{}")
                    .post("/v1/issuers/" + odd + "/suspend")
                    .then()
                    .statusCode(404);
            as("admin")
                    .urlEncodingEnabled(false)
                    .body("{}")
                    .post("/v1/issuers/" + odd + "/resume")
                    .then()
                    .statusCode(404);
            as("admin")
                    .urlEncodingEnabled(false)
                    .body("{\"tokenTtl\":\"PT5M\"}")
                    .post("/v1/issuers/" + odd + "/policy-changes")
                    .then()
                    .statusCode(404);
            as("alice")
                    .urlEncodingEnabled(false)
                    .body("{\"decision\":\"approve\"}")
                    .post("/v1/activations/" + odd + "/decisions")
                    .then()
                    .statusCode(404);
        }
    }

    static String token(String subject, List<String> groups) throws Exception {
        JWK key;
        try (var in = DecisionApiTest.class.getResourceAsStream("/jwt/test-oidc-private.pem")) {
            key = JWK.parseFromPEMEncodedObjects(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer("https://idp.test.example")
                .subject(subject)
                .audience("keyhold")
                .claim("upn", subject)
                .claim("groups", groups)
                .issueTime(new Date())
                .expirationTime(new Date(System.currentTimeMillis() + 300_000))
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).build(), claims);
        jwt.sign(new RSASSASigner(key.toRSAKey()));
        return jwt.serialize();
    }
}
