package dev.keyhold.audit;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Refused privileged attempts are audited (outcome denied) in their own transaction, and change nothing else. */
@QuarkusTest
class DenialAuditTest {

    @Inject
    Sql sql;

    @Inject
    DenialRecorder denials;

    long head() {
        return sql.count("select coalesce(max(seq), 0) from audit_record");
    }

    @Test
    void aScopingDenialIsRecordedAndNothingElseChanges() {
        Map<String, Object> body = Api.issuerBody(Api.uniqueId("deny"));
        body.put("custodians", List.of("alice", "bob"));
        String id = Api.createIssuer(body);
        String kid = Api.rotate(id);
        long events = sql.count("select count(*) from outbox_event");
        long before = head();

        // carol is a custodian, but not of this issuer
        as("carol")
                .header("X-Request-Id", "deny-test-1")
                .body("{\"reason\":\"x\"}")
                .post("/v1/keys/" + kid + "/revoke")
                .then()
                .statusCode(403);

        assertThat(sql.one("select state from signing_key where kid = ?", kid)).isEqualTo("PENDING");
        assertThat(sql.count("select count(*) from activation_request where kid = ? and state = 'OPEN'", kid))
                .isEqualTo(1);
        assertThat(sql.count("select count(*) from outbox_event")).isEqualTo(events);
        assertThat(sql.count("select count(*) from audit_record where seq > ? and actor = 'carol'", before))
                .isEqualTo(1);
        assertThat(sql.one(
                        "select outcome || ' ' || action || ' ' || issuer_id || ' ' || kid || ' ' || request_id"
                                + " from audit_record where seq > ? and actor = 'carol'",
                        before))
                .isEqualTo("denied request.denied " + id + " " + kid + " deny-test-1");
        String details = (String) sql.one("select details from audit_record where seq > ? and actor = 'carol'", before);
        assertThat(details)
                .contains("\"method\":\"POST\"")
                .contains("\"path\":\"/v1/keys/" + kid + "/revoke\"")
                .contains("not a custodian");
    }

    @Test
    void aRoleDenialIsRecordedWithPathAndMethod() {
        String id = Api.uniqueId("deny-role");
        long before = head();
        as("signer").body(Api.issuerBody(id)).post("/v1/issuers").then().statusCode(403);
        assertThat(sql.count("select count(*) from issuer where id = ?", id)).isZero();
        assertThat(sql.one(
                        "select details from audit_record where seq > ? and actor = 'signer'"
                                + " and action = 'request.denied' and outcome = 'denied'",
                        before))
                .asString()
                .contains("\"method\":\"POST\"")
                .contains("\"path\":\"/v1/issuers\"")
                .contains("role not allowed");
        // a GET the role may not make is a refused privileged attempt too
        as("signer").get("/v1/audit").then().statusCode(403);
        assertThat(sql.count(
                        "select count(*) from audit_record where seq > ? and actor = 'signer'"
                                + " and details like '%/v1/audit%'",
                        before))
                .isEqualTo(1);
        // 401s are not attempts by anyone: nothing recorded
        long afterDenials = head();
        Api.anonymous().get("/v1/audit").then().statusCode(401);
        assertThat(head()).isEqualTo(afterDenials);
    }

    @Test
    void theDenialRecorderWritesInItsOwnTransaction() {
        String id = Api.uniqueId("deny-direct");
        long before = head();
        try {
            io.quarkus.narayana.jta.QuarkusTransaction.requiringNew().run(() -> {
                denials.denied("mallory", "activation.decided", id, null, Map.of("why", "self-approval"));
                throw new IllegalStateException("the refused work rolls back");
            });
        } catch (IllegalStateException expected) {
            // the caller's transaction rolled back...
        }
        // ...but the denial survived it
        assertThat(sql.one(
                        "select outcome from audit_record where seq > ? and issuer_id = ? and actor = 'mallory'",
                        before,
                        id))
                .isEqualTo("denied");
        org.assertj.core.api.Assertions.assertThat(as("auditor")
                        .get("/v1/audit/verify")
                        .then()
                        .statusCode(200)
                        .extract()
                        .jsonPath()
                        .getBoolean("ok"))
                .isTrue();
    }
}
