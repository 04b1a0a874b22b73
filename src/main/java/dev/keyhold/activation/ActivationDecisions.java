package dev.keyhold.activation;

import dev.keyhold.domain.ActivationKind;
import dev.keyhold.domain.ActivationState;
import dev.keyhold.error.ProblemException;
import dev.keyhold.error.ValidationException;
import dev.keyhold.error.ValidationException.FieldError;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * The REST-facing side of dual control. Transaction boundaries are chosen here, deliberately outside any
 * transaction:
 * <ol>
 *   <li>a decision commits on its own ({@link ActivationRequests#decide});</li>
 *   <li>a refused one is audited afterwards in a new transaction ({@link Refusals});</li>
 *   <li>when the decision approved a key activation, {@link ActivationService#activateIfDue} runs in a following
 *       transaction, which takes the issuer lock again and activates only if {@code activatableAt} has passed.
 *       If that step fails, the approval stands and the next reader or the scheduler activates the key.</li>
 * </ol>
 * Reads never write: a read shows what is due ({@link ActivationView#due()}) without recording it; expiry and due
 * activations are recorded by the sweep, or by the decision that touches the request.
 */
@ApplicationScoped
public class ActivationDecisions {

    private static final Logger LOG = Logger.getLogger(ActivationDecisions.class);
    static final int MAX_COMMENT = 1000;
    static final int MAX_LIST = 500;

    @Inject
    ActivationRequests requests;

    @Inject
    ActivationService activations;

    @Inject
    Refusals refusals;

    @Inject
    IssuerService issuers;

    public ActivationView decide(String requestId, DecisionRequest body, SecurityIdentity who) {
        List<FieldError> errors = new ArrayList<>();
        if (body == null) {
            throw new ValidationException(List.of(new FieldError("body", "a decision is required")));
        }
        if (!"approve".equals(body.decision()) && !"reject".equals(body.decision())) {
            errors.add(new FieldError("decision", "must be \"approve\" or \"reject\""));
        }
        if (body.comment() != null && body.comment().length() > MAX_COMMENT) {
            errors.add(new FieldError("comment", "at most " + MAX_COMMENT + " characters"));
        }
        if (!errors.isEmpty()) {
            throw new ValidationException(errors);
        }
        UUID id = parseId(requestId);
        String actor = who.getPrincipal().getName();
        ActivationRequests.Decided d = refusals.audited(
                () -> requests.decide(id, "approve".equals(body.decision()), body.comment(), body.signature(), who));
        switch (d.outcome()) {
            case EXPIRED ->
                throw ProblemException.conflict(
                        "request-expired", "the request expired at " + d.view().expiresAt() + "; it is now EXPIRED");
            case APPROVED -> activateQuietly(() -> activations.activateIfDue(id, actor), id);
            // An issuer that resumes may have a key approved while it was suspended: it goes live now if due.
            case EXECUTED -> {
                if (d.kind() == ActivationKind.ISSUER_RESUME) {
                    activateQuietly(() -> activations.activateDue(d.issuerId(), actor), id);
                }
            }
            default -> {}
        }
        return d.outcome() == ActivationRequests.Outcome.APPROVED || d.outcome() == ActivationRequests.Outcome.EXECUTED
                ? requests.view(id)
                : d.view();
    }

    /** The exact bytes custodians sign for this request (its statement). */
    public String statement(String requestId, SecurityIdentity who) {
        UUID id = parseId(requestId);
        ActivationRequests.Glance g =
                requests.glance(id).orElseThrow(() -> ProblemException.notFound("activation request", requestId));
        requireReader(g.issuerId(), who);
        String s = requests.statement(id);
        if (s == null) {
            throw ProblemException.conflict(
                    "no-statement",
                    "request " + requestId + " was opened before approvals were"
                            + " signed; it has no statement and cannot be approved");
        }
        return s;
    }

    public ActivationView get(String requestId, SecurityIdentity who) {
        UUID id = parseId(requestId);
        ActivationRequests.Glance g =
                requests.glance(id).orElseThrow(() -> ProblemException.notFound("activation request", requestId));
        requireReader(g.issuerId(), who);
        return requests.view(id);
    }

    public List<ActivationView> list(String state, String issuer, Integer limit, SecurityIdentity who) {
        ActivationState s = null;
        if (state != null && !state.isBlank()) {
            try {
                s = ActivationState.valueOf(state.trim().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw ProblemException.badRequest("state: must be one of " + List.of(ActivationState.values()));
            }
        }
        int n = limit == null ? 100 : limit;
        if (n < 1 || n > MAX_LIST) {
            throw ProblemException.badRequest("limit: must be between 1 and " + MAX_LIST);
        }
        List<String> scope = scope(who);
        if (issuer != null && !issuer.isBlank()) {
            issuers.require(issuer);
            if (scope != null && !scope.contains(issuer)) {
                throw ProblemException.forbidden(
                        "'" + who.getPrincipal().getName() + "' is not a custodian of issuer " + issuer);
            }
            scope = List.of(issuer);
        }
        return requests.list(s, scope, n);
    }

    /** Admins and auditors read every request; a custodian only those of issuers that name them. */
    private void requireReader(String issuerId, SecurityIdentity who) {
        List<String> scope = scope(who);
        if (scope != null && !scope.contains(issuerId)) {
            throw ProblemException.forbidden(
                    "'" + who.getPrincipal().getName() + "' is not a custodian of issuer " + issuerId);
        }
    }

    /** The issuers whose requests the caller may read, or null for all. */
    @Transactional
    List<String> scope(SecurityIdentity who) {
        if (who.hasRole(Roles.ADMIN) || who.hasRole(Roles.AUDITOR)) {
            return null;
        }
        String name = who.getPrincipal().getName();
        return IssuerEntity.<IssuerEntity>listAll().stream()
                .filter(i -> i.custodians.contains(name))
                .map(i -> i.id)
                .toList();
    }

    private void activateQuietly(Runnable activation, UUID requestId) {
        try {
            activation.run();
        } catch (RuntimeException e) {
            // The approval has committed; activation is retried by the next reader and by the scheduler.
            LOG.warnf("request %s approved; activation deferred: %s", requestId, e.toString());
        }
    }

    private static UUID parseId(String id) {
        try {
            return UUID.fromString(id);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw ProblemException.notFound("activation request", id);
        }
    }
}
