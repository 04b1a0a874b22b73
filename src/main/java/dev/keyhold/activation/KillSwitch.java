package dev.keyhold.activation;

import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.domain.ActivationKind;
import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.error.ProblemException;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.issuer.IssuerView;
import dev.keyhold.security.Roles;
import dev.keyhold.store.ActivationRequestEntity;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Suspend (one person, at once) and resume (M-of-N, like a key activation). Suspending is deliberately easy and
 * resuming hard: stopping a signer can never make things less safe, restarting one needs dual control.
 */
@ApplicationScoped
public class KillSwitch {

    @Inject
    IssuerService issuers;

    @Inject
    ActivationRequests requests;

    @Inject
    ChangeRecorder recorder;

    @Inject
    Clock clock;

    @Inject
    dev.keyhold.policy.PolicyChain chain;

    public record Suspension(boolean changed, IssuerView issuer) {}

    public record Resumption(boolean created, ActivationRequestEntity request) {
        /** The request's id, for callers that only link to it (the console) and need not see the row. */
        public UUID requestId() {
            return request.id;
        }
    }

    /** Idempotent: suspending a suspended issuer changes nothing and records nothing. */
    @Transactional
    public Suspension suspend(String issuerId, String reason, SecurityIdentity who) {
        IssuerEntity issuer = issuers.lock(issuerId);
        String actor = who.getPrincipal().getName();
        requireCustodianOrAdmin(issuer, who, "issuer.suspend");
        if (issuer.status == IssuerStatus.SUSPENDED) {
            return new Suspension(false, issuers.view(issuer.toIssuer()));
        }
        Instant now = clock.instant();
        issuer.status = IssuerStatus.SUSPENDED;
        issuer.updatedAt = now;
        chain.suspend(issuer);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("reason", reason == null ? "" : reason);
        recorder.record(Change.announced("issuer.suspended", actor, issuer.id, null, details));
        return new Suspension(true, issuers.view(issuer.toIssuer()));
    }

    /**
     * The kill switch pulled by Keyhold itself (evidence: a forged token reported for an issuer whose policy says
     * {@code suspendOnCompromise}), in the caller's transaction. Resuming needs the usual M-of-N approval. Returns
     * whether it changed anything (an already suspended issuer is left as it is).
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public boolean suspendBySystem(String issuerId, String actor, String reason) {
        IssuerEntity issuer = issuers.lock(issuerId);
        if (issuer.status == IssuerStatus.SUSPENDED) {
            return false;
        }
        issuer.status = IssuerStatus.SUSPENDED;
        issuer.updatedAt = clock.instant();
        chain.suspend(issuer);
        recorder.record(Change.announced("issuer.suspended", actor, issuer.id, null, Map.of("reason", reason)));
        return true;
    }

    /** Opens the issuer's resume request, or returns the live one. 409 when the issuer is not suspended. */
    @Transactional
    public Resumption resume(String issuerId, String reason, SecurityIdentity who) {
        IssuerEntity issuer = issuers.lock(issuerId);
        requireCustodianOrAdmin(issuer, who, "issuer.resume");
        if (issuer.status != IssuerStatus.SUSPENDED) {
            throw ProblemException.conflict("issuer-not-suspended", "issuer " + issuerId + " is not suspended");
        }
        Optional<ActivationRequestEntity> live = requests.live(issuer, ActivationKind.ISSUER_RESUME);
        if (live.isPresent()) {
            return new Resumption(false, live.get());
        }
        return new Resumption(
                true,
                requests.open(
                        issuer,
                        ActivationKind.ISSUER_RESUME,
                        who.getPrincipal().getName(),
                        reason == null ? "resume" : reason,
                        null));
    }

    /** Admins, or custodians the issuer names; refusals are audited by the caller. */
    static void requireCustodianOrAdmin(IssuerEntity issuer, SecurityIdentity who, String action) {
        String actor = who.getPrincipal().getName();
        if (who.hasRole(Roles.ADMIN) || (who.hasRole(Roles.CUSTODIAN) && issuer.custodians.contains(actor))) {
            return;
        }
        throw new Denied(
                action,
                actor,
                issuer.id,
                null,
                Map.of(),
                "'" + actor + "' is neither an admin nor a custodian of issuer " + issuer.id);
    }
}
