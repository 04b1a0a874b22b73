package dev.keyhold.domain;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The key lifecycle of SPEC, in one place: the states and every legal move between them.
 * A bad move fails with a message naming the rule, e.g. "only PENDING keys can be activated".
 */
public enum KeyState {
    PENDING,
    ACTIVE,
    RETIRED,
    REVOKED,
    DESTROYED;

    private static final Map<KeyState, Set<KeyState>> MOVES = Map.of(
            PENDING, EnumSet.of(ACTIVE, REVOKED),
            ACTIVE, EnumSet.of(RETIRED, REVOKED),
            RETIRED, EnumSet.of(REVOKED, DESTROYED),
            REVOKED, EnumSet.of(DESTROYED),
            DESTROYED, EnumSet.noneOf(KeyState.class));

    public boolean canMoveTo(KeyState to) {
        return MOVES.get(this).contains(to);
    }

    /** @throws IllegalTransitionException naming the rule when the move is not legal from this state */
    public void requireMoveTo(KeyState to) {
        if (!canMoveTo(to)) {
            throw new IllegalTransitionException("illegal-key-transition", refusal(to) + " (the key is " + this + ")");
        }
    }

    /** States whose public key may be in the JWKS (RETIRED only until verifyUntil: see Deadlines). */
    public boolean publishable() {
        return this == PENDING || this == ACTIVE || this == RETIRED;
    }

    static String refusal(KeyState to) {
        return switch (to) {
            case ACTIVE -> "only PENDING keys can be activated";
            case RETIRED -> "only ACTIVE keys can be retired";
            case REVOKED -> "only PENDING, ACTIVE or RETIRED keys can be revoked";
            case DESTROYED -> "only RETIRED or REVOKED keys can be destroyed";
            case PENDING -> "no key can return to PENDING";
        };
    }
}
