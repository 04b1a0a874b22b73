package dev.keyhold.activation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.domain.ActivationKind;
import dev.keyhold.domain.IssuerPolicy;
import dev.keyhold.error.ProblemException;
import dev.keyhold.error.ValidationException;
import dev.keyhold.error.ValidationException.FieldError;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerRequest;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.issuer.IssuerValidator;
import dev.keyhold.store.ActivationRequestEntity;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Proposes a change to an issuer's policy. It is validated exactly as at creation (the merged definition goes
 * through {@link IssuerValidator}) and opens a POLICY_CHANGE request that the issuer's CURRENT custodians approve
 * M-of-N; it is applied atomically when approved (see {@code ActivationRequests}).
 */
@ApplicationScoped
public class PolicyChanges {

    @Inject
    IssuerService issuers;

    @Inject
    IssuerValidator validator;

    @Inject
    ActivationRequests requests;

    @Inject
    ObjectMapper json;

    @Inject
    dev.keyhold.policy.PolicyChain chain;

    @Transactional
    public ActivationRequestEntity propose(String issuerId, PolicyChangeRequest body, SecurityIdentity who) {
        IssuerEntity issuer = issuers.lock(issuerId);
        KillSwitch.requireCustodianOrAdmin(issuer, who, "issuer.policy-change");
        if (body == null) {
            throw new ValidationException(List.of(new FieldError("body", "the proposed changes are required")));
        }
        List<FieldError> errors = new ArrayList<>();
        immutable("id", body.id(), issuer.id, errors);
        immutable("issuerUri", body.issuerUri(), issuer.issuerUri, errors);
        immutable("partition", body.partition(), issuer.partition, errors);
        if (body.reason() != null && body.reason().length() > 500) {
            errors.add(new FieldError("reason", "at most 500 characters"));
        }
        if (!errors.isEmpty()) {
            throw new ValidationException(errors);
        }
        IssuerPolicy p = issuer.policy();
        IssuerRequest merged = new IssuerRequest(
                issuer.id,
                issuer.issuerUri,
                issuer.partition,
                or(body.algorithm(), issuer.algorithm.name()),
                or(body.audiences(), issuer.audiences),
                or(body.custodians(), issuer.custodians),
                or(body.approvalsRequired(), issuer.approvalsRequired),
                or(body.signers(), issuer.signers),
                or(body.rotationPeriod(), p.rotationPeriod().toString()),
                or(body.publishLead(), p.publishLead().toString()),
                or(body.tokenTtl(), p.tokenTtl().toString()),
                or(body.activeDeadline(), p.activeDeadline().toString()),
                or(body.destroyGrace(), p.destroyGrace().toString()),
                or(body.approvalTtl(), p.approvalTtl().toString()),
                or(body.suspendOnCompromise(), issuer.suspendOnCompromise),
                or(body.ledgerBestEffort(), issuer.ledgerBestEffort));
        IssuerValidator.Valid valid = validator.validate(merged);
        String proposed = chain.propose(
                issuer.id,
                new dev.keyhold.policy.PolicyDocuments.Fields(
                        valid.id(),
                        valid.issuerUri(),
                        valid.partition(),
                        issuer.status,
                        valid.algorithm(),
                        valid.audiences(),
                        valid.signers(),
                        valid.approvalsRequired(),
                        valid.custodians(),
                        valid.policy()));
        // A change of nothing but custodians' enrolled credentials is a change too: it is how credentials enter the
        // policy once the credential bootstrap is over.
        boolean credentialsChanged = chain.head(issuer.id)
                .map(h -> !dev.keyhold.domain.CanonicalJson.canonicalize(
                                dev.keyhold.policy.PolicyDocuments.body(h.doc()))
                        .equals(dev.keyhold.domain.CanonicalJson.canonicalize(dev.keyhold.policy.PolicyDocuments.body(
                                dev.keyhold.policy.PolicyDocuments.parse(proposed)))))
                .orElse(false);
        if (PolicyDiff.between(issuer, valid).isEmpty() && !credentialsChanged) {
            throw new ValidationException(List.of(new FieldError("body", "proposes no change")));
        }
        if (requests.live(issuer, ActivationKind.POLICY_CHANGE).isPresent()) {
            throw ProblemException.conflict(
                    "policy-change-pending", "issuer " + issuerId + " already has a policy change awaiting decisions");
        }
        String payload;
        try {
            payload = json.writeValueAsString(merged);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a policy change as JSON", e);
        }
        return requests.open(
                issuer,
                ActivationKind.POLICY_CHANGE,
                who.getPrincipal().getName(),
                body.reason() == null ? "policy change" : body.reason(),
                payload,
                proposed);
    }

    private static void immutable(String field, String proposed, String current, List<FieldError> errors) {
        if (proposed != null && !Objects.equals(proposed, current)) {
            errors.add(new FieldError(field, "cannot be changed"));
        }
    }

    private static <T> T or(T value, T current) {
        return value != null ? value : current;
    }
}
