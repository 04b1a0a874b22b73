package dev.keyhold.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.store.ActivationRequestEntity;
import dev.keyhold.store.KeyEntity;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

/**
 * The command service writes a row only under the row lock of the issuer the row belongs to: these tests try to write
 * without the lock and under another issuer's lock (the cross-issuer case), and check that nothing changed and nothing
 * was recorded; then that a command under the right lock stores the value and records its change and event at once.
 */
@QuarkusTest
class LifecycleCommandsTest {

    @Inject
    LifecycleCommands commands;

    @Inject
    IssuerService issuers;

    @Inject
    MutableClock clock;

    @Inject
    Sql sql;

    @Test
    void aCommandWithoutTheIssuerLockIsRefusedAndChangesNothing() {
        String id = Api.createIssuer("cmd-nolock");
        String kid = Api.rotate(id);
        long records = records(id);

        assertThatThrownBy(() -> QuarkusTransaction.requiringNew().run(() -> {
                    IssuerEntity unlocked = IssuerEntity.findById(id);
                    KeyEntity k = KeyEntity.findByKid(kid).orElseThrow();
                    commands.apply(
                            unlocked, k, k.toKey().revoke(clock.instant(), unlocked.policy(), "no lock"), "test");
                }))
                .hasMessageContaining("needs the issuer row lock of " + id);

        assertThat(sql.one("select state from signing_key where kid = ?", kid)).isEqualTo("PENDING");
        assertThat(records(id)).isEqualTo(records);
    }

    @Test
    void aRowOfAnotherIssuerCannotBeWrittenUnderAnIssuersLock() {
        String mine = Api.createIssuer("cmd-mine");
        String theirs = Api.createIssuer("cmd-theirs");
        String theirKid = Api.rotate(theirs);
        String theirRequest = (String) sql.one("select id::text from activation_request where kid = ?", theirKid);
        long records = records(theirs) + records(mine);

        assertThatThrownBy(() -> QuarkusTransaction.requiringNew().run(() -> {
                    IssuerEntity locked = issuers.lock(mine);
                    KeyEntity k = KeyEntity.lockByKid(theirKid).orElseThrow();
                    commands.apply(
                            locked, k, k.toKey().revoke(clock.instant(), locked.policy(), "cross-issuer"), "test");
                }))
                .hasMessageContaining("a row of issuer " + theirs + " cannot be written under the lock of " + mine);
        assertThatThrownBy(() -> QuarkusTransaction.requiringNew().run(() -> {
                    IssuerEntity locked = issuers.lock(mine);
                    ActivationRequestEntity r =
                            ActivationRequestEntity.findById(java.util.UUID.fromString(theirRequest));
                    commands.apply(locked, r, r.toRequest().cancel(clock.instant(), "cross-issuer"), "test");
                }))
                .hasMessageContaining("cannot be written under the lock of " + mine);

        assertThat(sql.one("select state from signing_key where kid = ?", theirKid))
                .isEqualTo("PENDING");
        assertThat(sql.one("select state from activation_request where id = ?::uuid", theirRequest))
                .isEqualTo("OPEN");
        assertThat(records(theirs) + records(mine)).isEqualTo(records);
    }

    @Test
    void aCommandUnderTheLockStoresTheValueAndRecordsItsChangeAndEvent() {
        String id = Api.createIssuer("cmd-ok");
        String kid = Api.rotate(id);

        QuarkusTransaction.requiringNew().run(() -> {
            IssuerEntity locked = issuers.lock(id);
            KeyEntity k = KeyEntity.lockByKid(kid).orElseThrow();
            commands.apply(locked, k, k.toKey().revoke(clock.instant(), locked.policy(), "compromised"), "test");
        });

        assertThat(sql.one("select state from signing_key where kid = ?", kid)).isEqualTo("REVOKED");
        assertThat(sql.count("select count(*) from audit_record where kid = ? and action = 'key.revoked'", kid))
                .isEqualTo(1);
        assertThat(sql.count(
                        "select count(*) from outbox_event where subject = ? and type = 'keyhold.key.revoked'", kid))
                .isEqualTo(1);
    }

    /** Audit records and outbox events of the issuer. */
    private long records(String issuerId) {
        return sql.count("select count(*) from audit_record where issuer_id = ?", issuerId)
                + sql.count("select count(*) from outbox_event where issuer_id = ?", issuerId);
    }
}
