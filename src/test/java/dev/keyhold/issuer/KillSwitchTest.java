package dev.keyhold.issuer;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.hamcrest.Matchers.equalTo;

import dev.keyhold.error.ProblemException;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.StateFingerprint;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.sql.Timestamp;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
class KillSwitchTest {

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @Inject
    StateFingerprint fingerprint;

    @Inject
    IssuerGate gate;

    @AfterEach
    void reset() {
        clock.reset();
    }

    static Response decide(String user, String request, String decision) {
        return dev.keyhold.testsupport.Api.decide(user, request, decision, null);
    }

    long events(String issuer, String type) {
        return sql.count("select count(*) from outbox_event where issuer_id = ? and type = ?", issuer, type);
    }

    @Test
    void oneCustodianSuspendsAtOnceAndNothingSignsOrActivatesOrRotates() {
        String id = Api.createIssuer("kill");
        String kid = Api.rotate(id);
        String request = (String) sql.one("select id::text from activation_request where kid = ?", kid);
        assertThat(gate.requireActive(id).id()).isEqualTo(id);

        as("alice")
                .body("{\"reason\":\"token service compromised\"}")
                .post("/v1/issuers/" + id + "/suspend")
                .then()
                .statusCode(200)
                .body("status", equalTo("SUSPENDED"));
        assertThat(events(id, "keyhold.issuer.suspended")).isEqualTo(1);
        assertThat(sql.one(
                        "select data from outbox_event where issuer_id = ? and type = 'keyhold.issuer.suspended'", id))
                .asString()
                .contains("token service compromised");
        assertThatThrownBy(() -> gate.requireActive(id))
                .isInstanceOf(ProblemException.class)
                .satisfies(e -> assertThat(((ProblemException) e).status()).isEqualTo(409));
        as("scheduler")
                .post("/v1/issuers/" + id + "/rotations")
                .then()
                .statusCode(409)
                .body("type", equalTo("urn:keyhold:problem:issuer-suspended"));

        // a key approved while suspended does not go live, however long one waits
        decide("alice", request, "approve").then().statusCode(200);
        decide("bob", request, "approve").then().statusCode(200).body("state", equalTo("APPROVED"));
        clock.freezeAt(((Timestamp) sql.one("select activatable_at from signing_key where kid = ?", kid))
                .toInstant()
                .plusSeconds(60));
        as("admin").get("/v1/issuers/" + id).then().statusCode(200).body("activeKid", equalTo(null));
        as("admin").get("/v1/activations/" + request).then().statusCode(200).body("state", equalTo("APPROVED"));
        assertThat(sql.one("select state from signing_key where kid = ?", kid)).isEqualTo("PENDING");

        // idempotent: pulling it again is 200 and records nothing
        String before = fingerprint.of(id);
        as("admin")
                .body("{}")
                .post("/v1/issuers/" + id + "/suspend")
                .then()
                .statusCode(200)
                .body("status", equalTo("SUSPENDED"));
        as("bob").post("/v1/issuers/" + id + "/suspend").then().statusCode(200);
        assertThat(fingerprint.of(id)).isEqualTo(before);
    }

    @Test
    void resumeNeedsMOfNOtherCustodiansAndThenDueKeysGoLive() {
        String id = Api.createIssuer("resume");
        String kid = Api.rotate(id);
        String keyRequest = (String) sql.one("select id::text from activation_request where kid = ?", kid);
        decide("alice", keyRequest, "approve").then().statusCode(200);
        decide("bob", keyRequest, "approve").then().statusCode(200);
        as("carol").post("/v1/issuers/" + id + "/suspend").then().statusCode(200);
        clock.freezeAt(((Timestamp) sql.one("select activatable_at from signing_key where kid = ?", kid)).toInstant());

        Response opened = as("alice").body("{\"reason\":\"incident closed\"}").post("/v1/issuers/" + id + "/resume");
        opened.then()
                .statusCode(201)
                .body("kind", equalTo("ISSUER_RESUME"))
                .body("state", equalTo("OPEN"))
                .body("requester", equalTo("alice"))
                .body("approvalsRequired", equalTo(2))
                .body("reason", equalTo("incident closed"));
        String resume = opened.path("id");
        assertThat(opened.header("Location")).endsWith("/v1/activations/" + resume);
        // asking again returns the live request
        as("admin").post("/v1/issuers/" + id + "/resume").then().statusCode(200).body("id", equalTo(resume));
        assertThat(sql.count(
                        "select count(*) from activation_request where issuer_id = ? and kind = 'ISSUER_RESUME'", id))
                .isEqualTo(1);

        decide("alice", resume, "approve").then().statusCode(403);
        assertThat(sql.count(
                        "select count(*) from audit_record where actor = 'alice' and issuer_id = ? and outcome = 'denied'",
                        id))
                .isEqualTo(1);
        decide("mallory", resume, "approve").then().statusCode(403);
        decide("bob", resume, "approve").then().statusCode(200).body("state", equalTo("OPEN"));
        as("auditor")
                .get("/v1/issuers/" + id)
                .then()
                .body("status", equalTo("SUSPENDED"))
                .body("activeKid", equalTo(null));
        decide("carol", resume, "approve").then().statusCode(200).body("state", equalTo("EXECUTED"));
        assertThat(events(id, "keyhold.issuer.resumed")).isEqualTo(1);
        as("auditor")
                .get("/v1/issuers/" + id)
                .then()
                .body("status", equalTo("ACTIVE"))
                .body("activeKid", equalTo(kid));
        // the resumed issuer's approved key went live in the approval's follow-up
        assertThat(sql.one("select actor from audit_record where kid = ? and action = 'key.activated'", kid))
                .isEqualTo("carol");
        as("admin")
                .post("/v1/issuers/" + id + "/resume")
                .then()
                .statusCode(409)
                .body("type", equalTo("urn:keyhold:problem:issuer-not-suspended"));
    }

    @Test
    void oneRejectionKeepsTheIssuerSuspendedAndANewResumeCanBeAsked() {
        String id = Api.createIssuer("resume-rej");
        as("admin").post("/v1/issuers/" + id + "/suspend").then().statusCode(200);
        String first = as("admin")
                .post("/v1/issuers/" + id + "/resume")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
        decide("alice", first, "approve").then().statusCode(200);
        decide("bob", first, "reject").then().statusCode(200).body("state", equalTo("REJECTED"));
        as("auditor").get("/v1/issuers/" + id).then().body("status", equalTo("SUSPENDED"));
        String second = as("admin")
                .post("/v1/issuers/" + id + "/resume")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
        assertThat(second).isNotEqualTo(first);
        decide("bob", second, "approve").then().statusCode(200);
        decide("carol", second, "approve").then().statusCode(200).body("state", equalTo("EXECUTED"));
        as("auditor").get("/v1/issuers/" + id).then().body("status", equalTo("ACTIVE"));
    }

    @Test
    void onlyAdminsAndTheIssuersCustodiansPullOrReleaseTheSwitch() {
        Map<String, Object> body = Api.issuerBody(Api.uniqueId("kill-scope"));
        String id = Api.createIssuer(body);
        String before = fingerprint.of(id);
        as("mallory").post("/v1/issuers/" + id + "/suspend").then().statusCode(403);
        as("mallory").post("/v1/issuers/" + id + "/resume").then().statusCode(403);
        assertThat(sql.count(
                        "select count(*) from audit_record where actor = 'mallory' and issuer_id = ? and outcome = 'denied'"
                                + " and action in ('issuer.suspend', 'issuer.resume')",
                        id))
                .isEqualTo(2);
        for (String who : List.of("scheduler", "signer", "auditor")) {
            as(who).post("/v1/issuers/" + id + "/suspend").then().statusCode(403);
        }
        Api.anonymous().post("/v1/issuers/" + id + "/suspend").then().statusCode(401);
        as("admin")
                .body("{\"reason\":\"" + "r".repeat(501) + "\"}")
                .post("/v1/issuers/" + id + "/suspend")
                .then()
                .statusCode(422);
        as("admin").post("/v1/issuers/no-such-issuer/suspend").then().statusCode(404);
        assertThat(fingerprint.of(id)).isEqualTo(before);
        as("auditor").get("/v1/issuers/" + id).then().body("status", equalTo("ACTIVE"));
    }

    @Test
    void anExpiredResumeRequestIsReplacedByAFreshOne() {
        String id = Api.createIssuer("resume-exp");
        as("alice").post("/v1/issuers/" + id + "/suspend").then().statusCode(200);
        String first = as("alice")
                .post("/v1/issuers/" + id + "/resume")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
        clock.advance(java.time.Duration.ofDays(2).plusSeconds(1));
        String second = as("alice")
                .post("/v1/issuers/" + id + "/resume")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
        assertThat(second).isNotEqualTo(first);
        assertThat(sql.one("select state from activation_request where id = ?::uuid", first))
                .isEqualTo("EXPIRED");
        assertThat(events(id, "keyhold.activation.expired")).isEqualTo(1);
    }
}
