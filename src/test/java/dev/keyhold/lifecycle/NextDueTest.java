package dev.keyhold.lifecycle;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.domain.Deadlines;
import dev.keyhold.domain.IssuerPolicy;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The sweeper selects issuers by the stored {@code issuer.next_due_at}; these tests try to make it miss work or
 * disagree with the planner: every kind of due work is swept at its instant (and not a second before), and after
 * every command of a scripted run the stored instant equals the planner's answer recomputed from the rows.
 */
@QuarkusTest
class NextDueTest {

    @Inject
    Sweeper sweeper;

    @Inject
    NextDue nextDue;

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @AfterEach
    void reset() {
        clock.reset();
    }

    @Test
    void everyKindOfDueWorkIsSweptAtItsInstantAndNotASecondBefore() {
        String id = Api.createIssuer("walk");
        IssuerPolicy policy = policy(id);
        assertThat(stored(id)).as("a new issuer needs its first key at once").contains(DueStep.AT_ONCE);
        assertThat(sweeper.sweep(List.of(id)).steps()).isEqualTo(Map.of(StepKind.PREPARE, 1));
        String kid = (String) sql.one("select kid from signing_key where issuer_id = ? and state = 'PENDING'", id);
        String request = openRequest(id);
        decide("alice", request, "approve").then().statusCode(200);
        decide("bob", request, "approve").then().statusCode(200);
        assertThat(sql.one("select state from activation_request where id = ?::uuid", request))
                .isEqualTo("APPROVED");

        sweptAt(id, instant("select activatable_at from signing_key where kid = ?", kid), StepKind.ACTIVATE);
        assertThat(sql.one("select state from signing_key where kid = ?", kid)).isEqualTo("ACTIVE");
        Instant activatedAt = instant("select activated_at from signing_key where kid = ?", kid);

        sweptAt(id, Deadlines.prepareAt(activatedAt, policy), StepKind.PREPARE);
        String successor =
                (String) sql.one("select kid from signing_key where issuer_id = ? and state = 'PENDING'", id);
        sweptAt(
                id,
                instant("select expires_at from activation_request where kid = ?", successor),
                StepKind.EXPIRE_REQUEST);
        sweptAt(id, Deadlines.rotationDue(activatedAt, policy), StepKind.ANNOUNCE_OVERDUE);
        sweptAt(id, instant("select not_after from signing_key where kid = ?", kid), StepKind.RETIRE_AT_DEADLINE);
        assertThat(sql.one("select state from signing_key where kid = ?", kid)).isEqualTo("RETIRED");
        sweptAt(id, instant("select verify_until from signing_key where kid = ?", kid), StepKind.UNPUBLISH);
        sweptAt(id, instant("select destroy_at from signing_key where kid = ?", kid), StepKind.DESTROY);
        assertThat(sql.one("select state from signing_key where kid = ?", kid)).isEqualTo("DESTROYED");

        // left: a PENDING key whose request expired. Nothing is due until someone rotates again.
        assertThat(stored(id)).isEmpty();
        clock.advance(Duration.ofDays(400));
        assertThat(sweeper.sweep(List.of(id)).total()).isZero();
        Api.rotate(id); // reopens the request
        assertThat(stored(id))
                .contains(instant(
                        "select expires_at from activation_request where kid = ? and state = 'OPEN'", successor));
        assertConsistent(id, "after the rotation that reopened the request");
    }

    @Test
    void aRevokedKeyIsDestroyedAndAMissingHsmObjectMakesTheNextKeyDueAtOnce() {
        String id = Api.createIssuer("revk");
        sweeper.sweep(List.of(id));
        String kid = (String) sql.one("select kid from signing_key where issuer_id = ? and state = 'PENDING'", id);
        as("alice")
                .body(Map.of("reason", "lost laptop"))
                .post("/v1/keys/" + kid + "/revoke")
                .then()
                .statusCode(200);
        assertConsistent(id, "after revoke");
        assertThat(stored(id))
                .as("no ACTIVE or PENDING key left: the next key is due at once")
                .contains(DueStep.AT_ONCE);
        assertThat(sweeper.sweep(List.of(id)).steps()).isEqualTo(Map.of(StepKind.PREPARE, 1));
        sweptAt(
                id,
                instant("select expires_at from activation_request where issuer_id = ? and state = 'OPEN'", id),
                StepKind.EXPIRE_REQUEST);
        sweptAt(id, instant("select destroy_at from signing_key where kid = ?", kid), StepKind.DESTROY);
    }

    @Test
    void theStoredInstantIsThePlannersAfterEveryCommand() {
        String id = Api.createIssuer("script");
        String other = Api.createIssuer("script");
        assertConsistent(id, "create");
        step(id, "first sweep", () -> sweeper.sweep(List.of(id, other)));
        String first = openRequest(id);
        step(id, "a repeated rotation changes nothing", () -> Api.rotate(id));
        step(
                id,
                "one approval, short of M",
                () -> decide("alice", first, "approve").then().statusCode(200));
        step(
                id,
                "a rejection closes the request",
                () -> decide("carol", first, "reject").then().statusCode(200));
        step(id, "a rotation reopens it", () -> Api.rotate(id));
        String second = openRequest(id);
        step(id, "approval 1", () -> decide("alice", second, "approve").then().statusCode(200));
        step(
                id,
                "approval 2: APPROVED, due at activatableAt",
                () -> decide("bob", second, "approve").then().statusCode(200));
        step(
                id,
                "a denied decision (not a custodian)",
                () -> decide("mallory", second, "approve").then().statusCode(403));
        step(
                id,
                "suspend",
                () -> as("carol")
                        .body("{}")
                        .post("/v1/issuers/" + id + "/suspend")
                        .then()
                        .statusCode(200));
        clock.advance(Duration.ofHours(3)); // past activatableAt: while suspended nothing activates
        step(id, "a sweep while suspended", () -> sweeper.sweep(List.of(id)));
        assertThat(sql.one("select state from activation_request where id = ?::uuid", second))
                .isEqualTo("APPROVED");
        Response resume = as("alice").body("{}").post("/v1/issuers/" + id + "/resume");
        resume.then().statusCode(201);
        assertConsistent(id, "resume requested");
        String resumeId = resume.path("id");
        step(
                id,
                "resume approval 1",
                () -> decide("bob", resumeId, "approve").then().statusCode(200));
        step(
                id,
                "resume approval 2: resumed, the approved key activates",
                () -> decide("carol", resumeId, "approve").then().statusCode(200));
        step(id, "a sweep after the resume", () -> sweeper.sweep(List.of(id)));
        String active = (String) sql.one("select kid from signing_key where issuer_id = ? and state = 'ACTIVE'", id);
        assertThat(active).isNotNull();
        Instant before = stored(id).orElseThrow();
        Response change = as("admin")
                .body(Map.of("rotationPeriod", "P20D", "activeDeadline", "P30D"))
                .post("/v1/issuers/" + id + "/policy-changes");
        change.then().statusCode(201);
        assertConsistent(id, "policy change proposed");
        String changeId = change.path("id");
        step(
                id,
                "policy approval 1",
                () -> decide("alice", changeId, "approve").then().statusCode(200));
        step(
                id,
                "policy approval 2: applied",
                () -> decide("bob", changeId, "approve").then().statusCode(200));
        assertThat(stored(id))
                .as("a shorter cadence prepares the next key earlier")
                .get()
                .matches(t -> t.isBefore(before));
        step(id, "sweep at the new prepareAt", () -> {
            clock.freezeAt(stored(id).orElseThrow());
            assertThat(sweeper.sweep(List.of(id)).steps()).isEqualTo(Map.of(StepKind.PREPARE, 1));
        });
        String pending = (String) sql.one("select kid from signing_key where issuer_id = ? and state = 'PENDING'", id);
        step(
                id,
                "revoke the pending key",
                () -> as("bob")
                        .body(Map.of("reason", "test"))
                        .post("/v1/keys/" + pending + "/revoke")
                        .then()
                        .statusCode(200));
        step(
                id,
                "revoke the active key",
                () -> as("bob")
                        .body(Map.of("reason", "test"))
                        .post("/v1/keys/" + active + "/revoke")
                        .then()
                        .statusCode(200));
        step(
                id,
                "a sweep prepares the next key at once",
                () -> assertThat(sweeper.sweep(List.of(id)).steps()).isEqualTo(Map.of(StepKind.PREPARE, 1)));
        step(id, "reads change nothing", () -> {
            as("auditor").get("/v1/issuers/" + id).then().statusCode(200);
            as("auditor").get("/v1/activations?issuer=" + id).then().statusCode(200);
        });
        assertConsistent(other, "the other issuer, untouched by the first one's commands");
    }

    /** At one second before {@code at}: stored instant is {@code at} and the sweep does nothing; at {@code at}: {@code kind}. */
    private void sweptAt(String id, Instant at, StepKind kind) {
        clock.freezeAt(at.minusSeconds(1));
        assertThat(stored(id)).as("stored instant before %s", kind).contains(at);
        assertThat(sweeper.sweep(List.of(id)).total())
                .as("a second before %s", kind)
                .isZero();
        clock.freezeAt(at);
        assertThat(sweeper.sweep(List.of(id)).steps()).as("at %s", at).isEqualTo(Map.of(kind, 1));
        assertConsistent(id, "after " + kind);
    }

    private void step(String id, String what, Runnable command) {
        command.run();
        assertConsistent(id, what);
    }

    private void assertConsistent(String id, String after) {
        QuarkusTransaction.requiringNew().run(() -> {
            IssuerEntity issuer = IssuerEntity.findById(id);
            assertThat(nextDue.stored(id)).as("next_due_at of %s %s", id, after).isEqualTo(nextDue.plan(issuer));
        });
    }

    private Optional<Instant> stored(String id) {
        return QuarkusTransaction.requiringNew().call(() -> nextDue.stored(id));
    }

    private IssuerPolicy policy(String id) {
        return QuarkusTransaction.requiringNew()
                .call(() -> IssuerEntity.<IssuerEntity>findById(id).policy());
    }

    private String openRequest(String id) {
        return sql.one("select id from activation_request where issuer_id = ? and state = 'OPEN'", id)
                .toString();
    }

    private Instant instant(String query, Object arg) {
        return ((Timestamp) sql.one(query, arg)).toInstant();
    }

    private static Response decide(String user, String request, String decision) {
        return dev.keyhold.testsupport.Api.decide(user, request, decision, null);
    }
}
