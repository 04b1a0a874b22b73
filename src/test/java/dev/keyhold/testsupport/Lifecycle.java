package dev.keyhold.testsupport;

import dev.keyhold.activation.ActivationService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * Moves keys through their life for tests of later stages (signing, JWKS): custodians approve with signatures over
 * the request's statement through the API, then the real activation path runs.
 */
@ApplicationScoped
public class Lifecycle {

    @Inject
    Sql sql;

    @Inject
    ActivationService activations;

    @Inject
    MutableClock clock;

    /**
     * Approves the request with signed approvals of the first two custodians of its issuer (in the issuer's order)
     * other than the requester, through the API; returns when it is APPROVED.
     */
    public void approve(String request) {
        String issuer = (String) sql.one("select issuer_id from activation_request where id = ?::uuid", request);
        String requester = (String) sql.one("select requester from activation_request where id = ?::uuid", request);
        int m = ((Number) sql.one("select approvals_required from activation_request where id = ?::uuid", request))
                .intValue();
        String custodians = (String) sql.one("select custodians::text from issuer where id = ?", issuer);
        int given = 0;
        for (String c : custodians.replaceAll("[\\[\\]\" ]", "").split(",")) {
            if (given >= m || c.isEmpty() || c.equals(requester)) {
                continue;
            }
            Api.approve(c, request).then().statusCode(200);
            given++;
        }
    }

    /** Rotates, approves and activates: returns the issuer's new ACTIVE kid. Advances the clock past publishLead. */
    public String activeKey(String issuerId) {
        String kid = Api.rotate(issuerId);
        UUID request = (UUID) sql.one("select id from activation_request where kid = ? and state = 'OPEN'", kid);
        approve(request.toString());
        Instant activatable =
                ((java.sql.Timestamp) sql.one("select activatable_at from signing_key where kid = ?", kid)).toInstant();
        Duration wait = Duration.between(clock.instant(), activatable);
        if (!wait.isNegative()) {
            clock.advance(wait.plusSeconds(1));
        }
        activations
                .activateIfDue(request, "test")
                .orElseThrow(() -> new AssertionError("activation of " + kid + " not due"));
        return kid;
    }
}
