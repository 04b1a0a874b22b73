package dev.keyhold.domain;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The activation request lifecycle: the states and every legal move between them.
 * <pre>
 *  OPEN ──(M approvals)──▶ APPROVED ──(carried out)──▶ EXECUTED
 *   │ one rejection ▶ REJECTED          │ key revoked / no longer valid ▶ CANCELLED
 *   │ past expiresAt ▶ EXPIRED
 *   └ key revoked ▶ CANCELLED
 * </pre>
 */
public enum ActivationState {
    /** Collecting decisions. */
    OPEN,
    /** M distinct custodians approved; waiting for the key's activatableAt (or for execution). */
    APPROVED,
    /** One custodian rejected it. */
    REJECTED,
    /** approvalTtl passed while OPEN. */
    EXPIRED,
    /** Carried out: the key is ACTIVE (or the issuer resumed, or the policy changed). */
    EXECUTED,
    /** Its key was revoked before it could be carried out. */
    CANCELLED;

    private static final Map<ActivationState, Set<ActivationState>> MOVES = Map.of(
            OPEN, EnumSet.of(APPROVED, REJECTED, EXPIRED, CANCELLED),
            APPROVED, EnumSet.of(EXECUTED, CANCELLED),
            REJECTED, EnumSet.noneOf(ActivationState.class),
            EXPIRED, EnumSet.noneOf(ActivationState.class),
            EXECUTED, EnumSet.noneOf(ActivationState.class),
            CANCELLED, EnumSet.noneOf(ActivationState.class));

    public boolean live() {
        return this == OPEN || this == APPROVED;
    }

    public boolean canMoveTo(ActivationState to) {
        return MOVES.get(this).contains(to);
    }

    /** @throws IllegalTransitionException naming the rule when the move is not legal from this state */
    public void requireMoveTo(ActivationState to) {
        if (!canMoveTo(to)) {
            throw new IllegalTransitionException(
                    "illegal-request-transition", refusal(to) + " (the request is " + this + ")");
        }
    }

    static String refusal(ActivationState to) {
        return switch (to) {
            case APPROVED, REJECTED, EXPIRED -> "only OPEN requests can become " + to;
            case EXECUTED -> "only APPROVED requests can be carried out";
            case CANCELLED -> "only OPEN or APPROVED requests can be cancelled";
            case OPEN -> "no request can return to OPEN";
        };
    }
}
