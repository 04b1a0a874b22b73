package dev.keyhold.testsupport;

import dev.keyhold.activation.ActivationService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * Moves keys through their life for tests of later stages (signing, JWKS): approvals are written as rows by
 * two custodians, then the real activation path runs. Tests of dual control itself go through the API.
 */
@ApplicationScoped
public class Lifecycle {

    @Inject
    Sql sql;
    @Inject
    ActivationService activations;
    @Inject
    MutableClock clock;

    /** Rotates, approves and activates: returns the issuer's new ACTIVE kid. Advances the clock past publishLead. */
    public String activeKey(String issuerId) {
        String kid = Api.rotate(issuerId);
        UUID request = (UUID) sql.one("select id from activation_request where kid = ? and state = 'OPEN'", kid);
        Instant now = clock.instant();
        sql.exec("insert into activation_decision (request_id, custodian, decision, decided_at) values (?, 'alice', 'APPROVE', ?),"
                + " (?, 'bob', 'APPROVE', ?)", request, now, request, now);
        sql.exec("update activation_request set state = 'APPROVED', decided_at = ? where id = ?", now, request);
        Instant activatable = ((java.sql.Timestamp) sql.one("select activatable_at from signing_key where kid = ?", kid)).toInstant();
        Duration wait = Duration.between(clock.instant(), activatable);
        if (!wait.isNegative()) {
            clock.advance(wait.plusSeconds(1));
        }
        activations.activateIfDue(request, "test").orElseThrow(() -> new AssertionError("activation of " + kid + " not due"));
        return kid;
    }
}
