package dev.keyhold.canary;

import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

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
        assertThat(r.results()).extracting(CanaryResult::name).containsExactly("foreign-issuer-claim", "revoked-key",
                "retired-past-verify-until", "alg-none", "hs256-with-public-key", "alg-swap", "kid-from-nowhere");
        assertThat(r.results()).allSatisfy(x -> assertThat(x.actual()).as(x.name()).isEqualTo(x.expected()));
        assertThat(r.passed()).isTrue();
        given().get("/q/health/ready").then()
                .body("checks.find { it.name == 'canaries' }.status", equalTo("UP"))
                .body("checks.find { it.name == 'canaries' }.data.'foreign-issuer-claim'", equalTo("passed"));

        // The fixtures are made once and kept: a second run creates no keys or issuers.
        long keys = sql.count("select count(*) from signing_key where issuer_id like 'keyhold-canary-%'");
        long issuers = sql.count("select count(*) from issuer where id like 'keyhold-canary-%'");
        assertThat(canaries.runOnce().passed()).isTrue();
        assertThat(sql.count("select count(*) from signing_key where issuer_id like 'keyhold-canary-%'")).isEqualTo(keys);
        assertThat(issuers).isEqualTo(2);
        // canary issuers can never sign through the API: nobody can approve their keys, and they name no signer
        assertThat(sql.count("select count(*) from signing_key where issuer_id like 'keyhold-canary-%' and state = 'ACTIVE'")).isZero();
        given().auth().preemptive().basic("signer", "keyhold-dev").contentType("application/json")
                .body(Map.of("claims", Map.of("aud", "urn:keyhold:canary:keyhold-canary-a")))
                .post("/v1/issuers/keyhold-canary-a/sign").then().statusCode(403);
    }

    @Test
    void aBrokenEngineFailsReadinessAndEmitsAnEvent() {
        assertThat(canaries.runOnce().passed()).isTrue();
        long before = sql.count("select count(*) from outbox_event where type = 'keyhold.canary.failed'");

        directory.rebind(CanaryFixtures.ISSUER_A, CanaryFixtures.ISSUER_B);
        CanaryReport broken = canaries.runOnce();
        assertThat(broken.passed()).isFalse();
        assertThat(broken.failed()).contains("foreign-issuer-claim");
        assertThat(broken.results()).filteredOn(x -> x.name().equals("foreign-issuer-claim"))
                .singleElement().extracting(CanaryResult::actual).isEqualTo("valid");

        given().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'canaries' }.status", equalTo("DOWN"));
        assertThat(sql.count("select count(*) from outbox_event where type = 'keyhold.canary.failed'")).isEqualTo(before + 1);
        String data = (String) sql.one("select data from outbox_event where type = 'keyhold.canary.failed' order by seq desc limit 1");
        assertThat(data).contains("foreign-issuer-claim");
        // the same failure again is not announced again
        canaries.runOnce();
        assertThat(sql.count("select count(*) from outbox_event where type = 'keyhold.canary.failed'")).isEqualTo(before + 1);

        directory.repair();
        assertThat(canaries.runOnce().passed()).isTrue();
        given().get("/q/health/ready").then()
                .body("checks.find { it.name == 'canaries' }.status", equalTo("UP"));
    }
}
