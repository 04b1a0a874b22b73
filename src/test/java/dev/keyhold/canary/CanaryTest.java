package dev.keyhold.canary;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
class CanaryTest {

    @Inject
    CanaryRunner canaries;

    @Inject
    BreakableVerificationDirectory directory;

    @Inject
    Sql sql;

    @AfterEach
    void repair() {
        directory.repair();
        canaries.runOnce();
    }

    @Test
    void everyForgedTokenIsRejectedForTheRightReason() {
        CanaryReport r = canaries.runOnce();
        assertThat(r.error()).isNull();
        assertThat(r.results())
                .extracting(CanaryResult::name)
                .containsExactly(
                        "foreign-issuer-claim",
                        "revoked-key",
                        "retired-past-verify-until",
                        "alg-none",
                        "alg-none-with-signature",
                        "hs256-with-public-key",
                        "alg-swap",
                        "kid-from-nowhere");
        assertThat(r.results())
                .allSatisfy(x -> assertThat(x.actual()).as(x.name()).isEqualTo(x.expected()));
        assertThat(r.passed()).isTrue();
        given().get("/q/health/group/canaries")
                .then()
                .body("checks.find { it.name == 'canaries' }.status", equalTo("UP"))
                .body("checks.find { it.name == 'canaries' }.data.'foreign-issuer-claim'", equalTo("passed"));

        // The fixtures are made once and kept: a second run creates no keys or issuers.
        long keys = sql.count("select count(*) from signing_key where issuer_id like 'keyhold-canary-%'");
        long issuers = sql.count("select count(*) from issuer where id like 'keyhold-canary-%'");
        assertThat(canaries.runOnce().passed()).isTrue();
        assertThat(sql.count("select count(*) from signing_key where issuer_id like 'keyhold-canary-%'"))
                .isEqualTo(keys);
        assertThat(issuers).isEqualTo(2);
        // canary issuers can never sign through the API: nobody can approve their keys, and they name no signer
        assertThat(
                        sql.count(
                                "select count(*) from signing_key where issuer_id like 'keyhold-canary-%' and state = 'ACTIVE'"))
                .isZero();
        given().auth()
                .preemptive()
                .basic("signer", "keyhold-dev")
                .contentType("application/json")
                .body(Map.of("claims", Map.of("aud", "urn:keyhold:canary:keyhold-canary-a")))
                .post("/v1/issuers/keyhold-canary-a/sign")
                .then()
                .statusCode(403);
    }

    @Test
    void aBrokenEngineClosesVerifyAndEmitsAnEventButKeepsTheJwks() {
        assertThat(canaries.runOnce().passed()).isTrue();
        long before = sql.count("select count(*) from outbox_event where type = 'keyhold.canary.failed'");

        directory.rebind(CanaryFixtures.ISSUER_A, CanaryFixtures.ISSUER_B);
        CanaryReport broken = canaries.runOnce();
        assertThat(broken.passed()).isFalse();
        assertThat(broken.failed()).contains("foreign-issuer-claim");
        assertThat(broken.results())
                .filteredOn(x -> x.name().equals("foreign-issuer-claim"))
                .singleElement()
                .extracting(CanaryResult::actual)
                .isEqualTo("valid");

        // A failed canary no longer takes readiness (and so the JWKS) down; /v1/verify fails closed instead.
        given().get("/q/health/ready").then().statusCode(200);
        given().get("/q/health/group/canaries")
                .then()
                .statusCode(503)
                .body("checks.find { it.name == 'canaries' }.status", equalTo("DOWN"));
        given().auth()
                .preemptive()
                .basic("auditor", "keyhold-dev")
                .contentType("application/json")
                .body(Map.of("token", "a.b.c"))
                .post("/v1/verify")
                .then()
                .statusCode(503)
                .contentType("application/problem+json")
                .header("Retry-After", org.hamcrest.Matchers.notNullValue())
                .body("type", equalTo("urn:keyhold:problem:verifier-self-test-failed"));
        given().get("/issuers/" + CanaryFixtures.ISSUER_A + "/.well-known/jwks.json")
                .then()
                .statusCode(200);
        assertThat(sql.count("select count(*) from outbox_event where type = 'keyhold.canary.failed'"))
                .isEqualTo(before + 1);
        String data = (String)
                sql.one("select data from outbox_event where type = 'keyhold.canary.failed' order by seq desc limit 1");
        assertThat(data).contains("foreign-issuer-claim");
        // the same failure again is not announced again
        canaries.runOnce();
        assertThat(sql.count("select count(*) from outbox_event where type = 'keyhold.canary.failed'"))
                .isEqualTo(before + 1);

        directory.repair();
        assertThat(canaries.runOnce().passed()).isTrue();
        given().get("/q/health/group/canaries")
                .then()
                .statusCode(200)
                .body("checks.find { it.name == 'canaries' }.status", equalTo("UP"));
        given().auth()
                .preemptive()
                .basic("auditor", "keyhold-dev")
                .contentType("application/json")
                .body(Map.of("token", "a.b.c"))
                .post("/v1/verify")
                .then()
                .statusCode(200)
                .body("reason", equalTo("malformed"));
    }

    @Test
    void aRunThatFailsWhileKeyholdStopsIsNotAFailure() {
        assertThat(canaries.runOnce().passed()).isTrue();
        CanaryReport passed = canaries.last().orElseThrow();
        long events = sql.count("select count(*) from outbox_event where type = 'keyhold.canary.failed'");
        java.util.List<String> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        org.jboss.logmanager.ExtHandler capture = new org.jboss.logmanager.ExtHandler() {
            @Override
            protected void doPublish(org.jboss.logmanager.ExtLogRecord record) {
                if (record.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
                    errors.add(record.getFormattedMessage());
                }
            }
        };
        org.jboss.logmanager.Logger log =
                org.jboss.logmanager.LogContext.getLogContext().getLogger(CanaryRunner.class.getName());
        log.addHandler(capture);
        // What a shutdown does to a run in flight (its database and HSM go away), played by a broken engine.
        directory.rebind(CanaryFixtures.ISSUER_A, CanaryFixtures.ISSUER_B);
        canaries.stopping(true);
        try {
            canaries.runOnce();
            assertThat(errors).noneMatch(m -> m.contains("CANARY FAILED"));
            assertThat(canaries.last()).contains(passed);
            assertThat(sql.count("select count(*) from outbox_event where type = 'keyhold.canary.failed'"))
                    .isEqualTo(events);
            given().auth()
                    .preemptive()
                    .basic("auditor", "keyhold-dev")
                    .contentType("application/json")
                    .body(Map.of("token", "a.b.c"))
                    .post("/v1/verify")
                    .then()
                    .statusCode(200);
        } finally {
            canaries.stopping(false);
        }
        try {
            // The same broken engine while running normally is a failure: the test above is not vacuous.
            assertThat(canaries.runOnce().passed()).isFalse();
            assertThat(errors).anyMatch(m -> m.contains("CANARY FAILED"));
        } finally {
            log.removeHandler(capture);
        }
    }
}
