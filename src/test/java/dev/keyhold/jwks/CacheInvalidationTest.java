package dev.keyhold.jwks;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Tokens.claims;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.events.OutboxFollower;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.Sql;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Caches follow outbox events only: one invalidation per event, for the issuer it concerns; audit-only records
 * (a 403's denial record, a custodian's decision) invalidate nothing, so a refused call cannot empty an issuer's
 * caches. The follower's poll is run here by the test (catchUp) so the count does not depend on timing.
 */
@QuarkusTest
class CacheInvalidationTest {

    @Inject
    OutboxFollower follower;

    @Inject
    CountingListener counts;

    @Inject
    JwksCache jwks;

    @Inject
    Lifecycle lifecycle;

    @Inject
    Sql sql;

    void catchUp() {
        QuarkusTransaction.requiringNew().run(follower::catchUp);
    }

    @Test
    void aRefusedCallLeavesTheCachesAlone() {
        String id = Api.createIssuer("inval-403");
        String other = Api.createIssuer("inval-other");
        lifecycle.activeKey(id);
        catchUp();
        given().get("/issuers/" + id + "/.well-known/jwks.json").then().statusCode(200);
        assertThat(jwks.holds(id)).isTrue();
        counts.reset(id);
        long denialsBefore =
                sql.count("select count(*) from audit_record where issuer_id = ? and outcome = 'denied'", id);
        // signer2 is not a signer of the issuer, alice may not rotate: 403s, each audited
        as("signer2")
                .body(Map.of("claims", claims(id)))
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(403);
        as("alice").body("{}").post("/v1/issuers/" + id + "/rotations").then().statusCode(403);
        catchUp();
        assertThat(sql.count("select count(*) from audit_record where issuer_id = ? and outcome = 'denied'", id))
                .isGreaterThan(denialsBefore);
        assertThat(counts.count(id)).isZero();
        assertThat(jwks.holds(id)).isTrue();
        // another issuer's change does not touch this one's caches
        as("admin")
                .body(Map.of("reason", "test"))
                .post("/v1/issuers/" + other + "/suspend")
                .then()
                .statusCode(200);
        catchUp();
        assertThat(counts.count(id)).isZero();
        assertThat(jwks.holds(id)).isTrue();
    }

    @Test
    void eachOutboxEventInvalidatesItsIssuerOnceAtCommitNotAgainAtThePoll() {
        String id = Api.createIssuer("inval-once");
        catchUp();
        counts.reset(id);
        String lifecycle = "select count(*) from outbox_event where issuer_id = ? and type not like 'keyhold.trust.%'";
        String all = "select count(*) from outbox_event where issuer_id = ?";
        long lifecycleBefore = sql.count(lifecycle, id);
        long allBefore = sql.count(all, id);
        as("admin")
                .body(Map.of("reason", "test"))
                .post("/v1/issuers/" + id + "/suspend")
                .then()
                .statusCode(200);
        assertThat(sql.count(lifecycle, id) - lifecycleBefore).isEqualTo(1);
        // The suspension's trust bundle is signed right after its commit: one more event of this issuer.
        long events = sql.count(all, id) - allBefore;
        assertThat(counts.count(id)).isEqualTo(events); // at commit, so a local change is visible at once
        catchUp();
        catchUp();
        assertThat(counts.count(id)).isEqualTo(events); // the poll skips what was applied at commit
    }
}
