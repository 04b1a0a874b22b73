package dev.keyhold.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.lifecycle.StepKind;
import dev.keyhold.lifecycle.Sweeper;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Benchmark, not a test: its name does not match Surefire's includes, so {@code verify} skips it; run it with
 * {@code bench/scheduler-sweeps.sh}. Needs the test JVM to itself (it sweeps every issuer in the database).
 * Results go to docs/benchmarks.md, "Scheduler sweeps".
 */
@QuarkusTest
class SchedulerSweepBench {

    static final int IDLE = 10_000;
    static final int DUE = 1_000;

    @Inject
    Sweeper sweeper;

    @Inject
    Sql sql;

    @Test
    void sweeps() {
        // 10,000 idle issuers: each with an ACTIVE key activated just now (next step due in 27 days), one RETIRED
        // key already unpublished and destroyed, no open request. Rows only: nothing here touches the HSM.
        String policy = "2592000, 86400, 3600, 3888000, 604800, 172800";
        sql.exec(
                "insert into issuer (id, issuer_uri, partition_name, algorithm, audiences, custodians, approvals_required,"
                        + " signers, rotation_period_s, publish_lead_s, token_ttl_s, active_deadline_s, destroy_grace_s, approval_ttl_s,"
                        + " status, created_at, updated_at) select 'idle-' || g, 'https://idle-' || g || '.bench', 'default', 'ES256',"
                        + " '[\"api\"]', '[\"alice\",\"bob\"]', 2, '[\"signer\"]', " + policy
                        + ", 'ACTIVE', now(), now()"
                        + " from generate_series(1, " + IDLE + ") g");
        sql.exec(
                "insert into signing_key (kid, issuer_id, algorithm, partition_name, hsm_handle, public_jwk, state, created_at,"
                        + " activatable_at, activated_at, not_after) select 'idle-active-' || g, 'idle-' || g, 'ES256', 'default',"
                        + " 'kh-idle-' || g || '-a', '{}', 'ACTIVE', now() - interval '2 days', now() - interval '1 day', now(),"
                        + " now() + interval '45 days' from generate_series(1, " + IDLE + ") g");
        sql.exec(
                "insert into signing_key (kid, issuer_id, algorithm, partition_name, hsm_handle, public_jwk, state, created_at,"
                        + " activatable_at, activated_at, not_after, retired_at, verify_until, unpublished_at, destroy_at, destroyed_at)"
                        + " select 'idle-old-' || g, 'idle-' || g, 'ES256', 'default', 'kh-idle-' || g || '-o', '{}', 'DESTROYED',"
                        + " now() - interval '60 days', now() - interval '59 days', now() - interval '59 days', now() - interval '14 days',"
                        + " now() - interval '29 days', now() - interval '29 days', now() - interval '29 days', now() - interval '22 days',"
                        + " now() - interval '22 days' from generate_series(1, " + IDLE + ") g");
        sql.exec("analyze");
        sweeper.sweepOnce(); // warm-up (and proof that nothing is due)
        List<Long> idleMs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            long t = System.nanoTime();
            Sweeper.SweepResult r = sweeper.sweepOnce();
            idleMs.add((System.nanoTime() - t) / 1_000_000);
            assertThat(r.total()).isZero();
        }
        Collections.sort(idleMs);
        System.out.printf(
                "BENCH idle sweep over %d issuers: median %d ms, max %d ms (10 runs)%n",
                IDLE, idleMs.get(idleMs.size() / 2), idleMs.get(idleMs.size() - 1));

        // 1,000 issuers with nothing yet: each needs its first key (ES256, generated in SoftHSM2)
        sql.exec(
                "insert into issuer (id, issuer_uri, partition_name, algorithm, audiences, custodians, approvals_required,"
                        + " signers, rotation_period_s, publish_lead_s, token_ttl_s, active_deadline_s, destroy_grace_s, approval_ttl_s,"
                        + " status, created_at, updated_at) select 'due-' || g, 'https://due-' || g || '.bench', 'default', 'ES256',"
                        + " '[\"api\"]', '[\"alice\",\"bob\"]', 2, '[\"signer\"]', " + policy
                        + ", 'ACTIVE', now(), now()"
                        + " from generate_series(1, " + DUE + ") g");
        long t = System.nanoTime();
        Sweeper.SweepResult r = sweeper.sweepOnce();
        long dueMs = (System.nanoTime() - t) / 1_000_000;
        assertThat(r.failures()).isEmpty();
        assertThat(r.steps()).containsEntry(StepKind.PREPARE, DUE);
        assertThat(sql.count("select count(*) from signing_key where issuer_id like 'due-%' and state = 'PENDING'"))
                .isEqualTo(DUE);
        System.out.printf(
                "BENCH sweep preparing %d ES256 keys (with %d idle issuers): %d ms (%.1f keys/s)%n",
                DUE, IDLE, dueMs, DUE * 1000.0 / dueMs);
        long t2 = System.nanoTime();
        assertThat(sweeper.sweepOnce().total()).isZero();
        System.out.printf(
                "BENCH idle sweep over %d issuers afterwards: %d ms%n",
                IDLE + DUE, (System.nanoTime() - t2) / 1_000_000);
    }
}
