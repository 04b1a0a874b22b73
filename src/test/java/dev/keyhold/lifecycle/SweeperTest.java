package dev.keyhold.lifecycle;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.domain.Deadlines;
import dev.keyhold.domain.Key;
import dev.keyhold.store.KeyEntity;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import io.agroal.api.AgroalDataSource;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduler;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
class SweeperTest {

    @Inject
    Sweeper sweeper;

    @Inject
    LifecycleSteps steps;

    @Inject
    Lifecycle lifecycle;

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @Inject
    AgroalDataSource ds;

    @Inject
    Scheduler scheduler;

    @AfterEach
    void reset() {
        clock.reset();
    }

    @Test
    void theTimerIsWiredToTheConfiguredInterval() {
        assertThat(scheduler.getScheduledJob("keyhold-sweeper")).isNotNull();
        assertThat(scheduler.getScheduledJob("keyhold-hsm-reconciler")).isNotNull();
    }

    @Test
    void theDueQueryAndThePlannerAgreeOnPrepareAtToTheSecond() {
        // an odd cadence, so prepareAt falls on a half second: SQL and Java must both keep it
        Map<String, Object> body = Api.issuerBody(Api.uniqueId("agree"));
        body.put("rotationPeriod", "PT7201S");
        body.put("publishLead", "PT1H");
        body.put("approvalTtl", "P1D");
        body.put("activeDeadline", "PT3H");
        body.put("tokenTtl", "PT5M");
        String id = Api.createIssuer(body);
        String kid = lifecycle.activeKey(id);
        Key k = QuarkusTransaction.requiringNew()
                .call(() -> KeyEntity.findByKid(kid).orElseThrow().toKey());
        Instant prepareAt = Deadlines.prepareAt(
                k.activatedAt(),
                new dev.keyhold.domain.IssuerPolicy(
                        Duration.ofSeconds(7201),
                        Duration.ofHours(1),
                        Duration.ofMinutes(5),
                        Duration.ofHours(3),
                        Duration.ofDays(7),
                        Duration.ofDays(1)));
        assertThat(Duration.between(k.activatedAt(), prepareAt)).isEqualTo(Duration.ofMillis(1_800_500));
        clock.freezeAt(prepareAt.minusSeconds(1));
        assertThat(due(id)).isEmpty();
        assertThat(sweeper.sweep(List.of(id)).total()).isZero();
        clock.freezeAt(prepareAt.minusMillis(1));
        assertThat(due(id)).isEmpty();
        clock.freezeAt(prepareAt);
        assertThat(due(id)).containsExactly(id);
        clock.freezeAt(prepareAt.plusSeconds(1));
        assertThat(due(id)).containsExactly(id);
        assertThat(sweeper.sweep(List.of(id)).steps()).isEqualTo(Map.of(StepKind.PREPARE, 1));
        assertThat(due(id)).isEmpty();
        // rotationDue = activatedAt + 7201 s: overdue is due there, not a second earlier
        Instant rotationDue = Deadlines.rotationDue(
                k.activatedAt(),
                new dev.keyhold.domain.IssuerPolicy(
                        Duration.ofSeconds(7201),
                        Duration.ofHours(1),
                        Duration.ofMinutes(5),
                        Duration.ofHours(3),
                        Duration.ofDays(7),
                        Duration.ofDays(1)));
        clock.freezeAt(rotationDue.minusSeconds(1));
        assertThat(due(id)).isEmpty();
        clock.freezeAt(rotationDue);
        assertThat(due(id)).containsExactly(id);
    }

    @Test
    void anotherInstanceHoldingTheSweepLockMeansThisOneSkips() throws Exception {
        String id = Api.createIssuer("lockd");
        try (Connection other = ds.getConnection()) {
            assertThat(tryLock(other)).isTrue();
            Sweeper.SweepResult r = sweeper.sweep(List.of(id));
            assertThat(r.ran()).isFalse();
            assertThat(sql.count("select count(*) from signing_key where issuer_id = ?", id))
                    .isZero();
            unlock(other);
        }
        assertThat(sweeper.sweep(List.of(id)).steps()).isEqualTo(Map.of(StepKind.PREPARE, 1));
    }

    @Test
    void twoConcurrentSweepersTakeEveryStepExactlyOnce() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ids.add(Api.createIssuer("twin"));
        }
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> runs = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                runs.add(pool.submit(() -> {
                    start.await();
                    int ran = 0;
                    for (int i = 0; i < 15; i++) {
                        ran += sweeper.sweep(ids).ran() ? 1 : 0;
                    }
                    return ran;
                }));
            }
            // a third "instance": takes steps for the same issuers bypassing the sweep lock, so only the issuer
            // row lock and the re-check under it stand between it and a double step
            runs.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < 5; i++) {
                    for (String id : ids) {
                        steps.takeOne(id);
                    }
                }
                return 0;
            }));
            start.countDown();
            for (Future<Integer> f : runs) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        for (String id : ids) {
            assertThat(sql.count("select count(*) from signing_key where issuer_id = ?", id))
                    .isEqualTo(1);
            assertThat(sql.count(
                            "select count(*) from outbox_event where issuer_id = ? and type = 'keyhold.key.created'",
                            id))
                    .isEqualTo(1);
            assertThat(sql.count(
                            "select count(*) from outbox_event where issuer_id = ? and type = 'keyhold.activation.requested'",
                            id))
                    .isEqualTo(1);
        }
    }

    @Test
    void overdueIsAnnouncedOnceEvenWithConcurrentSweepers() throws Exception {
        String id = Api.createIssuer("ovr");
        String kid = lifecycle.activeKey(id);
        // keep a pending successor so only the overdue step is due
        Api.rotate(id);
        clock.advance(Duration.ofDays(31));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<Object>> calls = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                calls.add(() -> steps.takeOne(id));
            }
            for (Future<Object> f : pool.invokeAll(calls)) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        sweeper.sweep(List.of(id));
        assertThat(sql.count(
                        "select count(*) from outbox_event where issuer_id = ? and type = 'keyhold.rotation.overdue'",
                        id))
                .isEqualTo(1);
        assertThat(sql.one(
                        "select subject from outbox_event where issuer_id = ? and type = 'keyhold.rotation.overdue'",
                        id))
                .isEqualTo(kid);
    }

    @Test
    void oneBrokenIssuerDoesNotStopTheOthersAndShowsOnHealthAndMetrics() {
        String good = Api.createIssuer("good");
        String broken = Api.createIssuer("broken");
        // an issuer whose partition the HSM does not have (possible after a configuration change)
        sql.exec("update issuer set partition_name = 'ghost' where id = ?", broken);
        Sweeper.SweepResult r = sweeper.sweep(List.of(broken, good));
        assertThat(r.steps()).isEqualTo(Map.of(StepKind.PREPARE, 1));
        assertThat(r.failures()).containsOnlyKeys(broken);
        assertThat(sql.count("select count(*) from signing_key where issuer_id = ?", good))
                .isEqualTo(1);
        as("ops")
                .get("/q/health/group/lifecycle")
                .then()
                .statusCode(200)
                .body("checks.find { it.name == 'lifecycle' }.status", org.hamcrest.Matchers.equalTo("UP"))
                .body(
                        "checks.find { it.name == 'lifecycle' }.data.'issuer." + broken + "'",
                        org.hamcrest.Matchers.containsString("ghost"));
        String metrics =
                as("ops").get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics)
                .contains("keyhold_scheduler_failures_total{issuer=\"" + broken + "\"}")
                .contains("keyhold_scheduler_steps_total{kind=\"prepare\"}")
                .contains("keyhold_scheduler_sweeps_total");
        // repaired: the failure clears with the issuer's next successful step
        sql.exec("update issuer set partition_name = 'default' where id = ?", broken);
        assertThat(sweeper.sweep(List.of(broken)).failures()).isEmpty();
        as("ops")
                .get("/q/health/group/lifecycle")
                .then()
                .statusCode(200)
                .body(
                        "checks.find { it.name == 'lifecycle' }.data.'issuer." + broken + "'",
                        org.hamcrest.Matchers.nullValue());
    }

    @Test
    void aSuspendedIssuerIsNotPreparedOrActivatedButItsKeysStillRetireAtTheDeadline() {
        String id = Api.createIssuer("susp");
        String kid = lifecycle.activeKey(id);
        sql.exec("update issuer set status = 'SUSPENDED' where id = ?", id);
        clock.advance(Duration.ofDays(28)); // past prepareAt (day 27)
        assertThat(sweeper.sweep(List.of(id)).total()).isZero();
        clock.advance(Duration.ofDays(3)); // past rotationDue: announced even while suspended
        assertThat(sweeper.sweep(List.of(id)).steps()).isEqualTo(Map.of(StepKind.ANNOUNCE_OVERDUE, 1));
        clock.advance(Duration.ofDays(15)); // past notAfter (day 45)
        assertThat(sweeper.sweep(List.of(id)).steps()).isEqualTo(Map.of(StepKind.RETIRE_AT_DEADLINE, 1));
        assertThat(sql.one("select state from signing_key where kid = ?", kid)).isEqualTo("RETIRED");
        clock.advance(Duration.ofHours(2));
        assertThat(sweeper.sweep(List.of(id)).steps()).isEqualTo(Map.of(StepKind.UNPUBLISH, 1));
        assertThat(sql.count("select count(*) from signing_key where issuer_id = ?", id))
                .as("nothing prepared")
                .isEqualTo(1);
    }

    @Test
    void revokedKeysAreDestroyedAtDestroyAtWithoutEverBeingUnpublished() {
        String id = Api.createIssuer("revd");
        String kid = Api.rotate(id);
        as("alice")
                .body(Map.of("reason", "compromised laptop"))
                .post("/v1/keys/" + kid + "/revoke")
                .then()
                .statusCode(200);
        Instant destroyAt = ((Timestamp) sql.one("select destroy_at from signing_key where kid = ?", kid)).toInstant();
        String handle = (String) sql.one("select hsm_handle from signing_key where kid = ?", kid);
        clock.freezeAt(destroyAt.minusSeconds(1));
        Sweeper.SweepResult before = sweeper.sweep(List.of(id));
        assertThat(before.steps()).isEqualTo(Map.of(StepKind.PREPARE, 1)); // no ACTIVE or PENDING key left
        assertThat(sweeper.sweep(List.of(id)).total()).isZero();
        clock.freezeAt(destroyAt);
        assertThat(sweeper.sweep(List.of(id)).steps()).isEqualTo(Map.of(StepKind.DESTROY, 1));
        assertThat(sql.one("select state from signing_key where kid = ?", kid)).isEqualTo("DESTROYED");
        assertThat(sql.one("select unpublished_at from signing_key where kid = ?", kid))
                .isNull();
        assertThat(sql.count(
                        "select count(*) from outbox_event where subject = ? and type = 'keyhold.key.unpublished'",
                        kid))
                .isZero();
        assertThat(sql.count(
                        "select count(*) from outbox_event where subject = ? and type = 'keyhold.key.destroyed'", kid))
                .isEqualTo(1);
    }

    @Test
    void expiredRequestsAreClosedByTheSweep() {
        String id = Api.createIssuer("exp");
        String kid = Api.rotate(id);
        Instant expiresAt =
                ((Timestamp) sql.one("select expires_at from activation_request where kid = ?", kid)).toInstant();
        clock.freezeAt(expiresAt.minusSeconds(1));
        assertThat(sweeper.sweep(List.of(id)).total()).isZero();
        clock.freezeAt(expiresAt);
        assertThat(sweeper.sweep(List.of(id)).steps()).isEqualTo(Map.of(StepKind.EXPIRE_REQUEST, 1));
        assertThat(sql.one("select state from activation_request where kid = ?", kid))
                .isEqualTo("EXPIRED");
        assertThat(sql.count(
                        "select count(*) from outbox_event where issuer_id = ? and type = 'keyhold.activation.expired'",
                        id))
                .isEqualTo(1);
        // the pending key waits for an explicit rotation call to be put to custodians again
        assertThat(sweeper.sweep(List.of(id)).total()).isZero();
    }

    @Test
    void cronRotationsAtAnyRateInterleavedWithSweepsMakeOneKey() throws Exception {
        String id = Api.createIssuer("cron");
        ExecutorService pool = Executors.newFixedThreadPool(5);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                fs.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 5; i++) {
                        int code = as("scheduler")
                                .body("{}")
                                .post("/v1/issuers/" + id + "/rotations")
                                .statusCode();
                        assertThat(code).isIn(200, 201);
                    }
                    return null;
                }));
            }
            fs.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < 10; i++) {
                    assertThat(sweeper.sweep(List.of(id)).failures()).isEmpty();
                }
                return null;
            }));
            start.countDown();
            for (Future<?> f : fs) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(sql.count("select count(*) from signing_key where issuer_id = ?", id))
                .isEqualTo(1);
        assertThat(sql.count(
                        "select count(*) from outbox_event where issuer_id = ? and type = 'keyhold.key.created'", id))
                .isEqualTo(1);
        assertThat(sql.count("select count(*) from activation_request where issuer_id = ?", id))
                .isEqualTo(1);
    }

    private List<String> due(String id) {
        return QuarkusTransaction.requiringNew().call(() -> sweeper.dueIssuers(clock.instant(), List.of(id)));
    }

    private static boolean tryLock(Connection c) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("select pg_try_advisory_lock(?)")) {
            ps.setLong(1, Sweeper.SWEEP_LOCK);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private static void unlock(Connection c) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("select pg_advisory_unlock(?)")) {
            ps.setLong(1, Sweeper.SWEEP_LOCK);
            ps.execute();
        }
    }
}
