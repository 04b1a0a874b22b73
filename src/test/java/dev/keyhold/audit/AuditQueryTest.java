package dev.keyhold.audit;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
class AuditQueryTest {

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @AfterEach
    void resetClock() {
        clock.reset();
    }

    @Test
    void filtersByIssuerKidActorActionAndTime() {
        String a = Api.createIssuer("audq");
        String b = Api.createIssuer("audq");
        String kid = Api.rotate(a);
        Api.rotate(b);
        as("alice")
                .body("{\"reason\":\"test\"}")
                .post("/v1/keys/" + kid + "/revoke")
                .then()
                .statusCode(200);

        JsonPath all = as("auditor")
                .queryParam("issuer", a)
                .get("/v1/audit")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(all.getList("records.issuerId")).containsOnly(a);
        assertThat(all.getList("records.action", String.class))
                .containsSubsequence("issuer.created", "key.created", "activation.requested", "key.revoked");
        assertThat((Object) all.get("next")).isNull();
        List<Long> seqs = all.getList("records.seq", Long.class);
        assertThat(seqs).isSorted().doesNotHaveDuplicates();
        // records carry everything an auditor needs to re-check the chain offline
        assertThat(all.getString("records[0].hash")).hasSize(64);
        assertThat(all.getString("records[0].prevHash")).hasSize(64);
        assertThat(all.getString("records[0].node")).isEqualTo("test-node");
        assertThat(all.getString("records[0].requestId")).isNotBlank();
        assertThat(all.getString("records[0].details.issuerUri")).isEqualTo("https://" + a + ".test.example");

        as("auditor")
                .queryParam("issuer", a)
                .queryParam("action", "key.revoked")
                .get("/v1/audit")
                .then()
                .statusCode(200)
                .body("records.size()", equalTo(1))
                .body("records[0].actor", equalTo("alice"))
                .body("records[0].kid", equalTo(kid))
                .body("records[0].details.reason", equalTo("test"));
        as("auditor")
                .queryParam("kid", kid)
                .queryParam("actor", "alice")
                .get("/v1/audit")
                .then()
                .statusCode(200)
                .body("records.action", equalTo(List.of("activation.cancelled", "key.revoked")));
        as("auditor")
                .queryParam("issuer", b)
                .queryParam("kid", kid)
                .get("/v1/audit")
                .then()
                .statusCode(200)
                .body("records.size()", equalTo(0));

        // time window: records made an hour "later" are in [later, later+1s) and nothing of a's is
        clock.advance(Duration.ofHours(1));
        Instant later = clock.instant();
        String c = Api.createIssuer("audq");
        as("auditor")
                .queryParam("from", later.toString())
                .queryParam("to", later.plusSeconds(60).toString())
                .queryParam("issuer", c)
                .get("/v1/audit")
                .then()
                .statusCode(200)
                // the new issuer's first trust bundle is signed right after its creation commits
                .body("records.action", equalTo(List.of("issuer.created", "trust.bundle-published")));
        as("auditor")
                .queryParam("to", later.toString())
                .queryParam("issuer", c)
                .get("/v1/audit")
                .then()
                .statusCode(200)
                .body("records.size()", equalTo(0));
        as("auditor")
                .queryParam("from", later.toString())
                .queryParam("issuer", a)
                .get("/v1/audit")
                .then()
                .statusCode(200)
                .body("records.size()", equalTo(0));
    }

    @Test
    void timeNeverRunsBackwardsAlongTheChainSoWindowsAreSeqRanges() {
        Api.createIssuer("audclock");
        long head = sql.count("select max(seq) from audit_record");
        Instant last =
                ((java.sql.Timestamp) sql.one("select recorded_at from audit_record where seq = ?", head)).toInstant();
        // a node whose clock lags an hour behind the last record
        clock.freezeAt(last.minus(Duration.ofHours(1)));
        String id = Api.createIssuer("audclock");
        Instant recorded = ((java.sql.Timestamp) sql.one(
                        "select recorded_at from audit_record where issuer_id = ?" + " and action = 'issuer.created'",
                        id))
                .toInstant();
        assertThat(recorded).isEqualTo(last);
        clock.reset();
        assertThat(sql.count("select count(*) from audit_record a join audit_record b on b.seq = a.seq + 1"
                        + " where b.recorded_at < a.recorded_at"))
                .isZero();
        as("auditor")
                .queryParam("from", last.toString())
                .queryParam("to", last.plusNanos(1000).toString())
                .queryParam("issuer", id)
                .get("/v1/audit")
                .then()
                .statusCode(200)
                // the first trust bundle's record shares the lagging node's (clamped) time
                .body("records.action", equalTo(List.of("issuer.created", "trust.bundle-published")));
        as("auditor")
                .queryParam("from", "2000-01-01T00:00:00Z")
                .queryParam("to", "2000-01-02T00:00:00Z")
                .get("/v1/audit")
                .then()
                .statusCode(200)
                .body("records.size()", equalTo(0));
        as("auditor")
                .queryParam("from", "2999-01-01T00:00:00Z")
                .get("/v1/audit")
                .then()
                .statusCode(200)
                .body("records.size()", equalTo(0));
    }

    @Test
    void keysetPagingVisitsEveryRecordOnce() {
        String id = Api.createIssuer("audpage");
        for (int i = 0; i < 3; i++) {
            String kid = Api.rotate(id);
            as("admin")
                    .body("{\"reason\":\"r" + i + "\"}")
                    .post("/v1/keys/" + kid + "/revoke")
                    .then()
                    .statusCode(200);
        }
        long total = sql.count("select count(*) from audit_record where issuer_id = ?", id);
        assertThat(total).isGreaterThanOrEqualTo(10);
        List<Long> seen = new ArrayList<>();
        Object after = null;
        int pages = 0;
        do {
            var req = as("auditor").queryParam("issuer", id).queryParam("limit", 3);
            if (after != null) {
                req = req.queryParam("after", after);
            }
            JsonPath p = req.get("/v1/audit").then().statusCode(200).extract().jsonPath();
            List<Long> s = p.getList("records.seq", Long.class);
            assertThat(s.size()).isLessThanOrEqualTo(3);
            seen.addAll(s);
            after = p.get("next");
            if (after != null) {
                assertThat(((Number) after).longValue()).isEqualTo(s.get(s.size() - 1));
            }
            pages++;
        } while (after != null && pages < 20);
        assertThat(seen).hasSize((int) total).isSorted().doesNotHaveDuplicates();
        assertThat(seen).containsExactlyElementsOf(sqlSeqs(id));
    }

    private List<Long> sqlSeqs(String issuer) {
        List<Long> out = new ArrayList<>();
        long last = 0;
        while (true) {
            Object next = sql.one("select min(seq) from audit_record where issuer_id = ? and seq > ?", issuer, last);
            if (next == null) {
                return out;
            }
            last = ((Number) next).longValue();
            out.add(last);
        }
    }

    @Test
    void badParametersAre400ProblemsNamingTheParameter() {
        for (String[] bad : new String[][] {
            {"limit", "0"},
            {"limit", "1001"},
            {"limit", "ten"},
            {"after", "-1"},
            {"after", "x"},
            {"from", "yesterday"},
            {"to", "2026-01-01"}
        }) {
            as("auditor")
                    .queryParam(bad[0], bad[1])
                    .get("/v1/audit")
                    .then()
                    .statusCode(400)
                    .contentType("application/problem+json")
                    .body("errors[0].field", equalTo(bad[0]));
        }
        as("auditor")
                .queryParam("from", "2026-01-02T00:00:00Z")
                .queryParam("to", "2026-01-01T00:00:00Z")
                .get("/v1/audit")
                .then()
                .statusCode(400)
                .body("detail", containsString("to"));
        as("auditor")
                .queryParam("actor", "x".repeat(201))
                .get("/v1/audit")
                .then()
                .statusCode(400);
        as("auditor")
                .queryParam("limit", "1000")
                .queryParam("from", "2026-01-01T00:00:00+02:00")
                .get("/v1/audit")
                .then()
                .statusCode(200);
    }

    @Test
    void onlyAuditorsReadTheTrail() {
        for (String who : List.of("admin", "ops", "alice", "scheduler", "signer")) {
            as(who).get("/v1/audit").then().statusCode(403);
        }
        Api.anonymous().get("/v1/audit").then().statusCode(401);
    }

    @Test
    void keyHistoryListsEveryRecordOfTheKeyInOrder() {
        String id = Api.createIssuer("audhist");
        String kid = Api.rotate(id);
        as("carol")
                .body("{\"reason\":\"no\"}")
                .post("/v1/keys/" + kid + "/revoke")
                .then()
                .statusCode(200);
        JsonPath h = as("auditor")
                .get("/v1/keys/" + kid + "/history")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(h.getString("kid")).isEqualTo(kid);
        assertThat(h.getList("records.action", String.class))
                .containsSubsequence("key.created", "activation.requested", "activation.cancelled", "key.revoked");
        assertThat(h.getList("records.kid")).containsOnly(kid);
        assertThat(h.getList("records.seq", Long.class)).isSorted();
        // the neighbouring routes of /v1/keys still resolve
        as("auditor").get("/v1/keys/" + kid).then().statusCode(200).body("kid", equalTo(kid));
        as("admin").get("/v1/keys/" + kid + "/history").then().statusCode(403);
        as("auditor").get("/v1/keys/" + "B".repeat(43) + "/history").then().statusCode(404);
        as("auditor").get("/v1/keys/not-a-kid/history").then().statusCode(404);
    }
}
