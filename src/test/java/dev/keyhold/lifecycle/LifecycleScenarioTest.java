package dev.keyhold.lifecycle;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.hsm.HsmPort;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A whole key life with an advancing clock and the sweeper as the only actor besides the custodians: prepare,
 * pre-publish, approve, activate, retire, unpublish, destroy, and a deadline with no approved successor. At each
 * step: the sweeper's steps, key states, the JWKS, the events and the HSM objects.
 */
@QuarkusTest
class LifecycleScenarioTest {

    static final Duration S = Duration.ofSeconds(1);
    static final Duration H = Duration.ofHours(1);

    @Inject
    Sweeper sweeper;

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @Inject
    HsmPort hsm;

    @AfterEach
    void reset() {
        clock.reset();
    }

    @Test
    void aWholeLife() {
        Instant t0 = Instant.parse("2030-03-01T00:00:00Z");
        clock.freezeAt(t0);
        Map<String, Object> body = Api.issuerBody(Api.uniqueId("life"));
        body.put("rotationPeriod", "PT4H");
        body.put("publishLead", "PT2H");
        body.put("activeDeadline", "PT6H");
        body.put("tokenTtl", "PT1H");
        body.put("destroyGrace", "PT1H");
        String id = Api.createIssuer(body);
        Events events = new Events(id);
        events.expect("keyhold.issuer.created");

        // prepare: a new issuer gets its first key, published at once
        assertThat(sweep(id)).containsExactly(StepKind.PREPARE);
        String k1 = kidInState(id, "PENDING");
        assertThat(jwks(id)).containsExactly(k1);
        events.expect("keyhold.key.created", "keyhold.activation.requested");
        assertThat(sweep(id)).as("idempotent: nothing more is due").isEmpty();

        // pre-publication: approved, but it may not sign before publishLead
        approve(k1);
        Instant activatable1 = t0.plus(Duration.ofHours(2));
        assertThat(ts("select activatable_at from signing_key where kid = ?", k1))
                .isEqualTo(activatable1);
        clock.freezeAt(activatable1.minus(S));
        assertThat(sweep(id)).isEmpty();
        assertThat(state(k1)).isEqualTo("PENDING");
        clock.freezeAt(activatable1.plus(S));
        assertThat(sweep(id)).containsExactly(StepKind.ACTIVATE);
        assertThat(state(k1)).isEqualTo("ACTIVE");
        // approved over the API (signed decisions), which announces the approval
        events.expect("keyhold.activation.approved", "keyhold.key.activated");
        Instant a1 = activatable1.plus(S);
        as("auditor")
                .get("/v1/issuers/" + id)
                .then()
                .statusCode(200)
                .body("activeKid", org.hamcrest.Matchers.equalTo(k1))
                .body(
                        "nextRotationDue",
                        org.hamcrest.Matchers.equalTo(
                                a1.plus(Duration.ofHours(4)).toString()))
                .body("overdue", org.hamcrest.Matchers.equalTo(false));

        // prepareAt = rotationDue - (publishLead + min(approvalTtl, slack / 2)) = a1 + 4h - 3h
        Instant prepareAt = a1.plus(H);
        clock.freezeAt(prepareAt.minus(S));
        assertThat(sweep(id)).isEmpty();
        clock.freezeAt(prepareAt);
        assertThat(sweep(id)).containsExactly(StepKind.PREPARE);
        String k2 = kidInState(id, "PENDING");
        assertThat(jwks(id)).containsExactlyInAnyOrder(k1, k2);
        events.expect("keyhold.key.created", "keyhold.activation.requested");
        as("auditor").get("/v1/issuers/" + id).then().body("awaitingApproval", org.hamcrest.Matchers.contains(k2));

        // approve and activate the successor: the predecessor retires and stays published for tokenTtl
        approve(k2);
        Instant a2 = prepareAt.plus(Duration.ofHours(2));
        clock.freezeAt(a2);
        assertThat(sweep(id)).containsExactly(StepKind.ACTIVATE);
        assertThat(state(k1)).isEqualTo("RETIRED");
        assertThat(state(k2)).isEqualTo("ACTIVE");
        assertThat(jwks(id)).containsExactlyInAnyOrder(k1, k2);
        events.expect("keyhold.activation.approved", "keyhold.key.retired", "keyhold.key.activated");

        // unpublish: k1 leaves the JWKS at verifyUntil even before the sweep; the sweep then records it.
        // k2's own prepareAt (a2 + 1h) falls on the same instant: preparing k3 comes first.
        Instant verifyUntil1 = a2.plus(H);
        clock.freezeAt(verifyUntil1.minus(S));
        assertThat(jwks(id)).containsExactlyInAnyOrder(k1, k2);
        assertThat(sweep(id)).isEmpty();
        clock.freezeAt(verifyUntil1);
        assertThat(jwks(id)).containsExactly(k2);
        assertThat(sweep(id)).containsExactly(StepKind.PREPARE, StepKind.UNPUBLISH);
        String k3 = kidInState(id, "PENDING");
        assertThat(ts("select unpublished_at from signing_key where kid = ?", k1))
                .isEqualTo(verifyUntil1);
        assertThat(jwks(id)).containsExactlyInAnyOrder(k2, k3);
        events.expect("keyhold.key.created", "keyhold.activation.requested", "keyhold.key.unpublished");
        String handle1 = (String) sql.one("select hsm_handle from signing_key where kid = ?", k1);
        assertThat(hsm.list("default")).contains(handle1);

        // destroy at verifyUntil + destroyGrace
        Instant destroyAt1 = verifyUntil1.plus(H);
        clock.freezeAt(destroyAt1.minus(S));
        assertThat(sweep(id)).isEmpty();
        assertThat(hsm.list("default")).contains(handle1);
        clock.freezeAt(destroyAt1);
        assertThat(sweep(id)).containsExactly(StepKind.DESTROY);
        assertThat(state(k1)).isEqualTo("DESTROYED");
        assertThat(hsm.list("default")).doesNotContain(handle1);
        events.expect("keyhold.key.destroyed");

        // k3 is never approved: k2 becomes overdue at rotationDue (announced once) ...
        Instant due2 = a2.plus(Duration.ofHours(4));
        clock.freezeAt(due2.minus(S));
        assertThat(sweep(id)).isEmpty();
        clock.freezeAt(due2);
        assertThat(sweep(id)).containsExactly(StepKind.ANNOUNCE_OVERDUE);
        events.expect("keyhold.rotation.overdue");
        as("auditor").get("/v1/issuers/" + id).then().body("overdue", org.hamcrest.Matchers.equalTo(true));
        clock.freezeAt(due2.plus(H));
        assertThat(sweep(id)).as("overdue is announced once").isEmpty();

        // ... and is retired at notAfter with no successor: the issuer has no signer until k3 is approved
        Instant notAfter2 = a2.plus(Duration.ofHours(6));
        clock.freezeAt(notAfter2.minus(S));
        assertThat(sweep(id)).isEmpty();
        assertThat(state(k2)).isEqualTo("ACTIVE");
        clock.freezeAt(notAfter2);
        assertThat(sweep(id)).containsExactly(StepKind.RETIRE_AT_DEADLINE);
        assertThat(state(k2)).isEqualTo("RETIRED");
        assertThat(ts("select retired_at from signing_key where kid = ?", k2)).isEqualTo(notAfter2);
        assertThat(sql.count("select count(*) from signing_key where issuer_id = ? and state = 'ACTIVE'", id))
                .isZero();
        assertThat(jwks(id)).containsExactlyInAnyOrder(k2, k3);
        events.expect("keyhold.key.retired");
        as("auditor")
                .get("/v1/issuers/" + id)
                .then()
                .body("activeKid", org.hamcrest.Matchers.nullValue())
                .body("overdue", org.hamcrest.Matchers.equalTo(false))
                .body("awaitingApproval", org.hamcrest.Matchers.contains(k3));
        assertThat(sql.count(
                        "select count(*) from outbox_event where issuer_id = ? and type = 'keyhold.rotation.overdue'",
                        id))
                .isEqualTo(1);
        assertThat(sql.one("select actor from audit_record where kid = ? and action = 'key.retired'", k2))
                .isEqualTo(LifecycleSteps.ACTOR);
    }

    private List<StepKind> sweep(String id) {
        List<StepKind> steps = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Sweeper.SweepResult r = sweeper.sweep(List.of(id));
            assertThat(r.ran()).isTrue();
            assertThat(r.failures()).isEmpty();
            if (r.total() == 0) {
                return steps;
            }
            r.steps().forEach((k, n) -> {
                for (int j = 0; j < n; j++) {
                    steps.add(k);
                }
            });
        }
        throw new AssertionError("sweeps never settled: " + steps);
    }

    private void approve(String kid) {
        UUID request = (UUID) sql.one("select id from activation_request where kid = ? and state = 'OPEN'", kid);
        Api.approve("alice", request.toString()).then().statusCode(200);
        Api.approve("bob", request.toString()).then().statusCode(200);
        sql.replan((String) sql.one("select issuer_id from activation_request where id = ?", request));
    }

    private List<String> jwks(String id) {
        return Api.anonymous()
                .get("/issuers/" + id + "/.well-known/jwks.json")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("keys.kid", String.class);
    }

    private String kidInState(String id, String state) {
        return (String) sql.one("select kid from signing_key where issuer_id = ? and state = ?", id, state);
    }

    private String state(String kid) {
        return (String) sql.one("select state from signing_key where kid = ?", kid);
    }

    private Instant ts(String q, Object... args) {
        return ((Timestamp) sql.one(q, args)).toInstant();
    }

    /** The issuer's outbox, checked a few events at a time in order. */
    private final class Events {
        final String issuerId;
        long seen;

        Events(String issuerId) {
            this.issuerId = issuerId;
        }

        void expect(String... types) {
            List<String> next = new ArrayList<>();
            for (long i = 0; ; i++) {
                // Trust bundle events are left to the trust tests.
                Object t = sql.one(
                        "select type from outbox_event where issuer_id = ? and type not like 'keyhold.trust.%'"
                                + " order by seq offset ? limit 1",
                        issuerId, seen + i);
                if (t == null) {
                    break;
                }
                next.add((String) t);
            }
            assertThat(next).containsExactly(types);
            seen += next.size();
        }
    }
}
