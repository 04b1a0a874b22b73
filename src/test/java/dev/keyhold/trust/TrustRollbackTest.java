package dev.keyhold.trust;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.trust.TrustBundleApiTest.current;
import static dev.keyhold.trust.TrustBundleApiTest.payload;
import static dev.keyhold.trust.TrustBundleApiTest.sequence;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import com.nimbusds.jose.JWSObject;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.StateFingerprint;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
class TrustRollbackTest {

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @Inject
    Lifecycle lifecycle;

    @Inject
    StateFingerprint fingerprint;

    @Inject
    dev.keyhold.lifecycle.Sweeper sweeper;

    @BeforeEach
    void freeze() {
        clock.freezeAt(clock.instant());
    }

    @AfterEach
    void resetClock() {
        clock.reset();
    }

    /** Issuer with ACTIVE key A (bundle 2 publishes it), an audience added (bundle 3), PENDING key B (bundle 4). */
    record Setup(String issuer, String active, String pending) {}

    Setup setup() throws Exception {
        String id = Api.createIssuer("tr");
        String a = lifecycle.activeKey(id);
        assertThat(sequence(current(id))).isEqualTo(2);
        String req = as("admin")
                .body(Map.of("audiences", List.of("api://" + id, "api://extra")))
                .post("/v1/issuers/" + id + "/policy-changes")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
        TrustBundleApiTest.approve(req, "alice", "bob");
        String b = Api.rotate(id);
        assertThat(sequence(current(id))).isEqualTo(4);
        return new Setup(id, a, b);
    }

    static io.restassured.response.Response propose(String user, String issuer, Object toSequence) {
        return as(user).body(toSequence == null ? Map.of() : Map.of("toSequence", toSequence, "reason", "bad audience"))
                .post("/v1/issuers/" + issuer + "/trust-rollbacks");
    }

    static io.restassured.response.Response decide(String user, String request) {
        return dev.keyhold.testsupport.Api.approve(user, request);
    }

    @Test
    void approvedRollbackPublishesExactlyThePreviewedBundle() throws Exception {
        Setup s = setup();
        String id = s.issuer();
        Map<String, Object> preview = given().queryParam("toSequence", 2)
                .get("/issuers/" + id + "/trust-rollbacks/preview")
                .then()
                .statusCode(200)
                .extract()
                .as(Map.class);
        assertThat(preview)
                .containsEntry("sequence", 5)
                .containsEntry("toSequence", 2)
                .containsEntry("revokes", List.of(s.pending()))
                .containsEntry("audiences", List.of("api://" + id));
        // Deterministic: the same inputs give the same bytes.
        assertThat(given().queryParam("toSequence", 2)
                        .get("/issuers/" + id + "/trust-rollbacks/preview")
                        .then()
                        .extract()
                        .as(Map.class))
                .isEqualTo(preview);

        String request = propose("alice", id, 2)
                .then()
                .statusCode(201)
                .body("kind", equalTo("TRUST_ROLLBACK"))
                .body("proposed.toSequence", equalTo(2))
                .extract()
                .path("id");
        // The requester never decides; a custodian of another issuer neither; one approval is not enough.
        decide("alice", request).then().statusCode(403);
        decide("mallory", request).then().statusCode(403);
        decide("bob", request).then().statusCode(200).body("state", equalTo("OPEN"));
        assertThat(sequence(current(id)))
                .as("nothing published before M approvals")
                .isEqualTo(4);
        decide("carol", request).then().statusCode(200).body("state", equalTo("EXECUTED"));

        String bundle = current(id);
        Map<String, Object> p = payload(bundle);
        assertThat(p)
                .containsEntry("sequence", 5L)
                .containsEntry("rollbackOf", 2L)
                .containsEntry("audiences", List.of("api://" + id));
        assertThat(BundleContent.kids(p)).containsExactly(s.active());
        String signingInput = bundle.substring(0, bundle.lastIndexOf('.'));
        assertThat(signingInput).isEqualTo(preview.get("signingInput"));
        assertThat(JWSObject.parse(bundle).getPayload().toString()).isEqualTo(preview.get("payload"));

        assertThat(sql.one("select state || ':' || revocation_reason from signing_key where kid = ?", s.pending()))
                .isEqualTo("REVOKED:rollback");
        assertThat(sql.one(
                        "select state from activation_request where kid = ? order by created_at desc limit 1",
                        s.pending()))
                .isEqualTo("CANCELLED");
        assertThat(sql.one("select audiences::text from issuer where id = ?", id))
                .isEqualTo("[\"api://" + id + "\"]");
        assertThat(sql.count(
                        "select count(*) from audit_record where issuer_id = ? and action = 'trust.rolled-back'", id))
                .isEqualTo(1);
        assertThat(sql.count(
                        "select count(*) from outbox_event where issuer_id = ? and type = 'keyhold.trust.rolled-back'",
                        id))
                .isEqualTo(1);
        // The rollback's own bundle was the only one of that transaction.
        assertThat(sql.count("select max(sequence) from trust_bundle where issuer_id = ?", id))
                .isEqualTo(5);
    }

    @Test
    void missingSequenceIs404CurrentIs422BadInputIs422() throws Exception {
        Setup s = setup();
        String id = s.issuer();
        String before = fingerprint.of(id);
        propose("admin", id, 99).then().statusCode(404).contentType("application/problem+json");
        given().queryParam("toSequence", 99)
                .get("/issuers/" + id + "/trust-rollbacks/preview")
                .then()
                .statusCode(404);
        propose("admin", id, 4).then().statusCode(422).body("detail", containsString("current bundle"));
        given().queryParam("toSequence", 4)
                .get("/issuers/" + id + "/trust-rollbacks/preview")
                .then()
                .statusCode(422);
        propose("admin", id, null).then().statusCode(422);
        propose("admin", id, 0).then().statusCode(422);
        propose("admin", "no-such-issuer", 1).then().statusCode(404);
        assertThat(fingerprint.of(id)).isEqualTo(before);
    }

    @Test
    void onlyAdminsAndTheIssuersCustodiansMayAsk() throws Exception {
        Setup s = setup();
        String before = fingerprint.of(s.issuer());
        for (String user : List.of("mallory", "signer", "scheduler", "auditor")) {
            propose(user, s.issuer(), 2).then().statusCode(403);
        }
        given().contentType("application/json")
                .body(Map.of("toSequence", 2))
                .post("/v1/issuers/" + s.issuer() + "/trust-rollbacks")
                .then()
                .statusCode(401);
        assertThat(fingerprint.of(s.issuer())).isEqualTo(before);
        assertThat(sql.count(
                        "select count(*) from audit_record where issuer_id = ? and outcome = 'denied'"
                                + " and action = 'trust.rollback'",
                        s.issuer()))
                .isGreaterThanOrEqualTo(1);
        propose("admin", s.issuer(), 2).then().statusCode(201);
        propose("bob", s.issuer(), 3).then().statusCode(409).body("type", containsString("trust-rollback-pending"));
    }

    @Test
    void refusedWhenItWouldLeaveTheActiveKeyOut() throws Exception {
        Setup s = setup();
        // B becomes ACTIVE (A retires): bundle 2 does not publish B.
        String request = (String)
                sql.one("select id::text from activation_request where kid = ? and state = 'OPEN'", s.pending());
        decide("alice", request).then().statusCode(200);
        decide("bob", request).then().statusCode(200);
        clock.advance(java.time.Duration.ofHours(3));
        // Reads never write: the scheduler's step activates it.
        sweeper.sweep(List.of(s.issuer()));
        assertThat(sql.one("select state from signing_key where kid = ?", s.pending()))
                .isEqualTo("ACTIVE");
        propose("admin", s.issuer(), 2)
                .then()
                .statusCode(409)
                .body("type", containsString("rollback-excludes-active-key"))
                .body("detail", containsString(s.pending()));
        given().queryParam("toSequence", 2)
                .get("/issuers/" + s.issuer() + "/trust-rollbacks/preview")
                .then()
                .statusCode(409);
    }

    @Test
    void neverReadmitsARevokedKey() throws Exception {
        Setup s = setup();
        as("bob")
                .body(Map.of("reason", "suspicious"))
                .post("/v1/keys/" + s.pending() + "/revoke")
                .then()
                .statusCode(200);
        assertThat(sequence(current(s.issuer()))).isEqualTo(5);
        // Bundle 4 published B; B is revoked since, so the rollback to 4 leaves it out.
        String request =
                propose("alice", s.issuer(), 4).then().statusCode(201).extract().path("id");
        decide("bob", request).then().statusCode(200);
        decide("carol", request).then().statusCode(200).body("state", equalTo("EXECUTED"));
        Map<String, Object> p = payload(current(s.issuer()));
        assertThat(p).containsEntry("sequence", 6L).containsEntry("rollbackOf", 4L);
        assertThat(BundleContent.kids(p)).containsExactly(s.active()).doesNotContain(s.pending());
        assertThat(sql.one("select state from signing_key where kid = ?", s.pending()))
                .isEqualTo("REVOKED");
    }

    @Test
    void racingARotationNeverMixesTheTwo() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 3; round++) {
                String id = Api.createIssuer("tr-race");
                String a = lifecycle.activeKey(id);
                String req = as("admin")
                        .body(Map.of("audiences", List.of("api://" + id, "api://extra")))
                        .post("/v1/issuers/" + id + "/policy-changes")
                        .then()
                        .statusCode(201)
                        .extract()
                        .path("id");
                TrustBundleApiTest.approve(req, "alice", "bob");
                String request =
                        propose("alice", id, 2).then().statusCode(201).extract().path("id");
                decide("bob", request).then().statusCode(200);
                CountDownLatch go = new CountDownLatch(1);
                Future<Integer> approve = pool.submit(() -> {
                    go.await();
                    return decide("carol", request).statusCode();
                });
                Future<Integer> rotate = pool.submit(() -> {
                    go.await();
                    return as("scheduler")
                            .body("{}")
                            .post("/v1/issuers/" + id + "/rotations")
                            .statusCode();
                });
                go.countDown();
                assertThat(approve.get(60, TimeUnit.SECONDS)).isEqualTo(200);
                assertThat(rotate.get(60, TimeUnit.SECONDS)).isIn(200, 201);
                String c = (String) sql.one(
                        "select kid from signing_key where issuer_id = ? and kid <> ?"
                                + " order by created_at desc limit 1",
                        id,
                        a);
                List<Map<String, Object>> bundles = new ArrayList<>();
                long newest = sequence(current(id));
                for (long n = 1; n <= newest; n++) {
                    bundles.add(payload(given().get("/issuers/" + id + "/trust-bundles/" + n)
                            .then()
                            .statusCode(200)
                            .extract()
                            .asString()));
                }
                Map<String, Object> rollback = bundles.stream()
                        .filter(b -> b.get("rollbackOf") != null)
                        .findFirst()
                        .orElseThrow();
                // The rollback bundle is bundle 2's trust, whatever came first: never the racing key.
                assertThat(BundleContent.kids(rollback)).containsExactly(a);
                assertThat(rollback.get("audiences")).isEqualTo(List.of("api://" + id));
                String cState = (String) sql.one("select state from signing_key where kid = ?", c);
                long rollbackSeq = ((Number) rollback.get("sequence")).longValue();
                if (rollbackSeq == newest) {
                    // The rotation came first: its key was rolled back with the rest.
                    assertThat(cState).isEqualTo("REVOKED");
                } else {
                    // The rollback came first: the rotation is a later change on top of it.
                    assertThat(cState).isEqualTo("PENDING");
                    assertThat(BundleContent.kids(bundles.get(bundles.size() - 1)))
                            .containsExactly(c, a);
                    assertThat(bundles.get(bundles.size() - 1).get("rollbackOf"))
                            .isNull();
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
