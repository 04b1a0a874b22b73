package dev.keyhold.testsupport;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;

/** Key-row writes an attacker with database access but no custodian key would make, for the tests that try them. */
@ApplicationScoped
public class ForgedRows {

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    /** Retires the ACTIVE key and makes the PENDING one ACTIVE, by UPDATE alone (no approval, no command). */
    public void swapActive(String active, String pending) {
        sql.exec(
                "update signing_key set state = 'RETIRED', retired_at = now(), verify_until = now() + interval '1 hour'"
                        + " where kid = ?",
                active);
        sql.exec(
                "update signing_key set state = 'ACTIVE', activated_at = ?, not_after = ? where kid = ?",
                clock.instant(),
                clock.instant().plus(Duration.ofDays(30)),
                pending);
    }

    /** Puts both rows of {@link #swapActive} back as they were. */
    public void restoreActive(String active, String pending) {
        sql.exec(
                "update signing_key set state = 'PENDING', activated_at = null, not_after = null where kid = ?",
                pending);
        sql.exec(
                "update signing_key set state = 'ACTIVE', retired_at = null, verify_until = null where kid = ?",
                active);
    }
}
