package dev.keyhold.activation;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.domain.ActivationKind;
import dev.keyhold.domain.ActivationState;
import dev.keyhold.store.ActivationRequestEntity;
import java.time.Instant;
import java.util.List;

/**
 * An activation request on the wire, with every decision. {@code approvals} counts the approvals that count:
 * distinct custodians the issuer names now. {@code proposed} is the proposed issuer definition of a POLICY_CHANGE.
 * {@code due} is the state the request is due to move to but has not been recorded in yet (reads never write):
 * {@code EXPIRED} for an OPEN request past {@code expiresAt} ("expired, not yet recorded"), {@code EXECUTED} for an
 * APPROVED key activation whose key has reached {@code activatableAt}; absent when nothing is due.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ActivationView(
        String id,
        ActivationKind kind,
        String issuerId,
        String kid,
        String requester,
        String reason,
        ActivationState state,
        int approvalsRequired,
        int approvals,
        Instant createdAt,
        Instant expiresAt,
        Instant decidedAt,
        Instant executedAt,
        JsonNode proposed,
        List<DecisionView> decisions,
        ActivationState due) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public record DecisionView(String custodian, String decision, String comment, Instant decidedAt) {}

    static ActivationView of(
            ActivationRequestEntity r,
            int approvalsRequired,
            int approvals,
            List<DecisionView> decisions,
            ActivationState due) {
        JsonNode proposed = null;
        if (r.payload != null) {
            try {
                proposed = JSON.readTree(r.payload);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("stored payload of request " + r.id + " is not JSON", e);
            }
        }
        return new ActivationView(
                r.id.toString(),
                r.kind,
                r.issuerId,
                r.kid,
                r.requester,
                r.reason,
                r.state,
                approvalsRequired,
                approvals,
                r.createdAt,
                r.expiresAt,
                r.decidedAt,
                r.executedAt,
                proposed,
                decisions,
                due);
    }
}
