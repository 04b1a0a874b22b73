package dev.keyhold.domain;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * An activation request as a value (its row without payload and decisions). Its moves are pure functions checked
 * against {@link ActivationState}'s table; each returns the new value and the change to record.
 */
public record ActivationRequest(
        UUID id,
        ActivationKind kind,
        String issuerId,
        String kid,
        String requester,
        ActivationState state,
        int approvalsRequired,
        Instant createdAt,
        Instant expiresAt,
        Instant decidedAt,
        Instant executedAt) {

    /**
     * A new OPEN request of {@code kind}, put to the issuer's custodians at {@code now}: it needs
     * {@code approvalsRequired} approvals before {@code now + ttl}. {@code kid} is the key to activate, or null for
     * requests about the issuer.
     */
    public static Transition<ActivationRequest> open(
            UUID id,
            ActivationKind kind,
            String issuerId,
            String kid,
            String requester,
            int approvalsRequired,
            Instant now,
            java.time.Duration ttl) {
        if (approvalsRequired < 1 || ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("a request needs at least one approval and a positive lifetime");
        }
        if ((kind == ActivationKind.KEY_ACTIVATION) != (kid != null)) {
            throw new IllegalArgumentException("a key activation names its key; other requests name none");
        }
        Instant expires = now.plus(ttl);
        ActivationRequest r = new ActivationRequest(
                id, kind, issuerId, kid, requester, ActivationState.OPEN, approvalsRequired, now, expires, null, null);
        Map<String, Object> details = new java.util.LinkedHashMap<>();
        details.put("requestId", id.toString());
        details.put("kind", kind.name());
        details.put("approvalsRequired", approvalsRequired);
        details.put("expiresAt", expires.toString());
        return new Transition<>(r, DomainChange.announced("activation.requested", kid, details));
    }

    /** True when an OPEN request has reached expiresAt: it is due to be recorded EXPIRED (a boundary is expired). */
    public boolean expiryDue(Instant now) {
        return state == ActivationState.OPEN && !now.isBefore(expiresAt);
    }

    public Transition<ActivationRequest> approve(Instant now, List<String> approvedBy) {
        return move(
                ActivationState.APPROVED,
                now,
                null,
                DomainChange.announced(
                        "activation.approved",
                        kid,
                        Map.of(
                                "requestId",
                                id.toString(),
                                "kind",
                                kind.name(),
                                "approvedBy",
                                List.copyOf(approvedBy))));
    }

    public Transition<ActivationRequest> reject(Instant now, String rejectedBy) {
        return move(
                ActivationState.REJECTED,
                now,
                null,
                DomainChange.announced(
                        "activation.rejected",
                        kid,
                        Map.of("requestId", id.toString(), "kind", kind.name(), "rejectedBy", rejectedBy)));
    }

    /** OPEN → EXPIRED; refused before expiresAt (a request never expires early). */
    public Transition<ActivationRequest> expire(Instant now) {
        if (state == ActivationState.OPEN && now.isBefore(expiresAt)) {
            throw new IllegalTransitionException("not-yet-expired", "request " + id + " expires at " + expiresAt);
        }
        return move(
                ActivationState.EXPIRED,
                now,
                null,
                DomainChange.announced("activation.expired", kid, Map.of("requestId", id.toString())));
    }

    public Transition<ActivationRequest> cancel(Instant now, String why) {
        return move(
                ActivationState.CANCELLED,
                now,
                null,
                DomainChange.auditOnly("activation.cancelled", kid, Map.of("requestId", id.toString(), "why", why)));
    }

    /**
     * APPROVED → EXECUTED. The change to record is the effect's (key.activated, issuer.resumed, ...), which the
     * caller records; this one is audit-free, hence {@code null}.
     */
    public Transition<ActivationRequest> execute(Instant now) {
        return move(ActivationState.EXECUTED, null, now, null);
    }

    private Transition<ActivationRequest> move(
            ActivationState to, Instant decided, Instant executed, DomainChange change) {
        state.requireMoveTo(to);
        return new Transition<>(
                new ActivationRequest(
                        id,
                        kind,
                        issuerId,
                        kid,
                        requester,
                        to,
                        approvalsRequired,
                        createdAt,
                        expiresAt,
                        decided != null ? decided : decidedAt,
                        executed != null ? executed : executedAt),
                change);
    }
}
