package dev.keyhold.domain;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * An activation request as a value (its row without payload and decisions). Its moves are pure functions checked
 * against {@link ActivationState}'s table; each returns the new value and the change to record.
 */
public record ActivationRequest(UUID id, ActivationKind kind, String issuerId, String kid, String requester,
                                ActivationState state, int approvalsRequired, Instant createdAt, Instant expiresAt,
                                Instant decidedAt, Instant executedAt) {

    /** True when an OPEN request has reached expiresAt: it is due to be recorded EXPIRED (a boundary is expired). */
    public boolean expiryDue(Instant now) {
        return state == ActivationState.OPEN && !now.isBefore(expiresAt);
    }

    public Transition<ActivationRequest> approve(Instant now, List<String> approvedBy) {
        return move(ActivationState.APPROVED, now, null, DomainChange.announced("activation.approved", kid,
                Map.of("requestId", id.toString(), "kind", kind.name(), "approvedBy", List.copyOf(approvedBy))));
    }

    public Transition<ActivationRequest> reject(Instant now, String rejectedBy) {
        return move(ActivationState.REJECTED, now, null, DomainChange.announced("activation.rejected", kid,
                Map.of("requestId", id.toString(), "kind", kind.name(), "rejectedBy", rejectedBy)));
    }

    /** OPEN → EXPIRED; refused before expiresAt (a request never expires early). */
    public Transition<ActivationRequest> expire(Instant now) {
        if (state == ActivationState.OPEN && now.isBefore(expiresAt)) {
            throw new IllegalTransitionException("not-yet-expired", "request " + id + " expires at " + expiresAt);
        }
        return move(ActivationState.EXPIRED, now, null, DomainChange.announced("activation.expired", kid,
                Map.of("requestId", id.toString())));
    }

    public Transition<ActivationRequest> cancel(Instant now, String why) {
        return move(ActivationState.CANCELLED, now, null, DomainChange.auditOnly("activation.cancelled", kid,
                Map.of("requestId", id.toString(), "why", why)));
    }

    /**
     * APPROVED → EXECUTED. The change to record is the effect's (key.activated, issuer.resumed, ...), which the
     * caller records; this one is audit-free, hence {@code null}.
     */
    public Transition<ActivationRequest> execute(Instant now) {
        return move(ActivationState.EXECUTED, null, now, null);
    }

    private Transition<ActivationRequest> move(ActivationState to, Instant decided, Instant executed, DomainChange change) {
        state.requireMoveTo(to);
        return new Transition<>(new ActivationRequest(id, kind, issuerId, kid, requester, to, approvalsRequired,
                createdAt, expiresAt, decided != null ? decided : decidedAt, executed != null ? executed : executedAt),
                change);
    }
}
