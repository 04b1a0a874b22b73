package dev.keyhold.signing;

import static dev.keyhold.testsupport.Tokens.claims;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.keyhold.policy.IntegrityAlarm;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.ForgedRows;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A database write moves no outbox event, so nothing drops the signing snapshot it falsifies; the periodic recheck
 * ({@link EvidenceRecheck}, {@link SigningCache#recheckHeld}) must find it without any other change to the issuer:
 * signing stops and the alarm is raised, and once the row is put back the next recheck lets the issuer sign again.
 * The cache is never invalidated by hand here: only the recheck can make these assertions pass.
 */
@QuarkusTest
class EvidenceRecheckTest {

    static final String PROBLEM = "urn:keyhold:problem:approval-evidence-invalid";

    @Inject
    Lifecycle lifecycle;

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @Inject
    SigningCache cache;

    @Inject
    IntegrityAlarm alarm;

    @Inject
    ForgedRows forged;

    @AfterEach
    void reset() {
        clock.reset();
    }

    @Test
    void aLoweredThresholdInAHeldSnapshotIsFoundByTheRecheck() {
        String id = Api.createIssuer("recheck-m");
        String kid = lifecycle.activeKey(id);
        cache.invalidate(id);
        sign(id).then().statusCode(200).body("kid", equalTo(kid));
        assertThat(cache.holds(id)).isTrue();

        sql.exec("update issuer set approvals_required = 1 where id = ?", id);
        assertThat(violations(id)).as("nothing has looked yet").isZero();
        assertThat(cache.recheckHeld()).isPositive();

        sign(id).then().statusCode(409).body("type", equalTo(PROBLEM));
        assertThat(violations(id)).isEqualTo(1);
        assertThat(alarm.findings()).containsKey(id);

        sql.exec("update issuer set approvals_required = 2 where id = ?", id);
        cache.recheckHeld();
        sign(id).then().statusCode(200).body("kid", equalTo(kid));
        assertThat(alarm.findings()).doesNotContainKey(id);
        cache.recheckHeld();
        assertThat(violations(id)).as("a recheck that passes records nothing").isEqualTo(1);
    }

    @Test
    void aPendingKeySetActiveUnderAHeldSnapshotIsFoundByTheRecheck() {
        String id = Api.createIssuer("recheck-swap");
        String first = lifecycle.activeKey(id);
        String pending = Api.rotate(id);
        cache.invalidate(id);
        sign(id).then().statusCode(200).body("kid", equalTo(first));

        forged.swapActive(first, pending);
        cache.recheckHeld();
        sign(id).then().statusCode(409).body("type", equalTo(PROBLEM));
        assertThat(violations(id)).isPositive();

        forged.restoreActive(first, pending);
        cache.recheckHeld();
        sign(id).then().statusCode(200).body("kid", equalTo(first));
    }

    @Test
    void onlyHeldSnapshotsAreRechecked() {
        String id = Api.createIssuer("recheck-cold");
        lifecycle.activeKey(id);
        cache.invalidate(id);
        sql.exec("update issuer set approvals_required = 1 where id = ?", id);
        cache.recheckHeld();
        assertThat(cache.holds(id)).as("the recheck builds no snapshot").isFalse();
        assertThat(violations(id))
                .as("a cold issuer is verified at its first use")
                .isZero();
        sign(id).then().statusCode(409).body("type", equalTo(PROBLEM));
        assertThat(violations(id)).isEqualTo(1);
        sql.exec("update issuer set approvals_required = 2 where id = ?", id);
    }

    private Response sign(String id) {
        return Api.sign("signer", id, Map.of("claims", claims(id)));
    }

    private long violations(String id) {
        return sql.count(
                "select count(*) from audit_record where action = 'integrity.violation' and issuer_id = ?", id);
    }
}
