package dev.keyhold.rotation;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.keyhold.hsm.HsmPort;
import dev.keyhold.key.KeyHandles;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.HeldGenerations;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Rotation calls the HSM outside any transaction or row lock. With an HSM whose key generation takes seconds (held
 * by {@link HeldGenerations} until the test lets go, and at least 2 s), 40 rotations of distinct issuers in flight
 * leave the connection pool (32) usable, and the rotating issuers' reads and other issuers' commands finish while
 * every generation is still running.
 */
@QuarkusTest
class SlowHsmRotationTest {

    private static final int ROTATIONS = 40;

    @Inject
    HsmPort hsm;

    @Inject
    Sql sql;

    @Test
    void fortySlowGenerationsBlockNeitherThePoolNorOtherCommands() throws Exception {
        List<String> rotating = new ArrayList<>();
        for (int i = 0; i < ROTATIONS; i++) {
            rotating.add(Api.createIssuer("slow"));
        }
        String toSuspend = Api.createIssuer("slow-other");
        String withKey = Api.createIssuer("slow-revoke");
        String kidToRevoke = Api.rotate(withKey);
        String suspendedMidway = rotating.get(0);

        ExecutorService pool = Executors.newFixedThreadPool(ROTATIONS);
        List<Future<Response>> rotations = new ArrayList<>();
        try (HeldGenerations.Gate gate = HeldGenerations.hold(ROTATIONS, 2_000, 60_000)) {
            for (String id : rotating) {
                rotations.add(pool.submit(() -> as("scheduler").body("{}").post("/v1/issuers/" + id + "/rotations")));
            }
            assertThat(gate.started.await(60, TimeUnit.SECONDS))
                    .as("all 40 generations under way")
                    .isTrue();

            // Every generation is held: what follows must not wait for any of them.
            for (String id : rotating) {
                as("admin").get("/v1/issuers/" + id).then().statusCode(200).body("status", equalTo("ACTIVE"));
            }
            as("admin").get("/v1/issuers/" + rotating.get(7) + "/keys").then().statusCode(200);
            as("admin")
                    .body("{\"reason\":\"drill\"}")
                    .post("/v1/issuers/" + toSuspend + "/suspend")
                    .then()
                    .statusCode(200)
                    .body("status", equalTo("SUSPENDED"));
            as("admin")
                    .body("{\"reason\":\"drill\"}")
                    .post("/v1/keys/" + kidToRevoke + "/revoke")
                    .then()
                    .statusCode(200)
                    .body("state", equalTo("REVOKED"));
            // the same issuer's command too: its row is not locked during its own generation
            as("admin")
                    .body("{\"reason\":\"drill\"}")
                    .post("/v1/issuers/" + suspendedMidway + "/suspend")
                    .then()
                    .statusCode(200)
                    .body("status", equalTo("SUSPENDED"));
            assertThat(rotations)
                    .as("no rotation may finish before its generation is released")
                    .noneMatch(Future::isDone);
            assertThat(sql.count("select count(*) from pg_stat_activity where datname = current_database()"
                            + " and state = 'idle in transaction'"))
                    .as("no transaction waits for the HSM")
                    .isZero();

            gate.release();
            List<Integer> statuses = new ArrayList<>();
            for (Future<Response> f : rotations) {
                statuses.add(f.get(120, TimeUnit.SECONDS).statusCode());
            }
            assertThat(statuses.subList(1, ROTATIONS)).containsOnly(201);
            // suspended while its key was being generated: refused under the lock, and the new object destroyed
            assertThat(statuses.get(0)).isEqualTo(409);
        } finally {
            pool.shutdownNow();
        }
        assertThat(sql.count("select count(*) from signing_key where issuer_id = ?", suspendedMidway))
                .isZero();
        assertThat(hsm.list("default")).noneMatch(h -> h.startsWith(KeyHandles.PREFIX + suspendedMidway + "-"));
        for (String id : rotating.subList(1, ROTATIONS)) {
            assertThat(sql.count("select count(*) from signing_key where issuer_id = ? and state = 'PENDING'", id))
                    .isEqualTo(1);
        }
    }

    @Test
    void concurrentSlowRotationsOfOneIssuerMakeOneKeyAndDestroyTheLosersObjects() throws Exception {
        String id = Api.createIssuer("slow-race");
        int callers = 8;
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        List<Future<Response>> calls = new ArrayList<>();
        try (HeldGenerations.Gate gate = HeldGenerations.hold(callers, 0, 60_000)) {
            for (int i = 0; i < callers; i++) {
                calls.add(pool.submit(() -> as("scheduler").body("{}").post("/v1/issuers/" + id + "/rotations")));
            }
            // all callers found no pending key and are generating: the race the lock and re-check must settle
            assertThat(gate.started.await(60, TimeUnit.SECONDS)).isTrue();
            gate.release();
            List<Integer> statuses = new ArrayList<>();
            List<String> kids = new ArrayList<>();
            for (Future<Response> f : calls) {
                Response r = f.get(120, TimeUnit.SECONDS);
                statuses.add(r.statusCode());
                kids.add(r.path("kid"));
            }
            assertThat(statuses).containsOnly(200, 201);
            assertThat(statuses.stream().filter(s -> s == 201)).hasSize(1);
            assertThat(kids).containsOnly(kids.get(0));
        } finally {
            pool.shutdownNow();
        }
        assertThat(sql.count("select count(*) from signing_key where issuer_id = ?", id))
                .isEqualTo(1);
        assertThat(hsm.list("default").stream().filter(h -> h.startsWith(KeyHandles.PREFIX + id + "-")))
                .hasSize(1);
        as("scheduler")
                .body("{}")
                .post("/v1/issuers/" + id + "/rotations")
                .then()
                .statusCode(200);
    }
}
