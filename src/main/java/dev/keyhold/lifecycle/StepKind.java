package dev.keyhold.lifecycle;

/** The due steps a sweep takes, in priority order: one per issuer per sweep, the first that is due. */
public enum StepKind {
    /** An OPEN activation request past its expiresAt becomes EXPIRED. */
    EXPIRE_REQUEST,
    /** An APPROVED key whose activatableAt has passed becomes ACTIVE (its predecessor RETIRED). */
    ACTIVATE,
    /** An ACTIVE key at notAfter is RETIRED, successor or not. */
    RETIRE_AT_DEADLINE,
    /** The next key is generated and its activation request opened. */
    PREPARE,
    /** keyhold.rotation.overdue, once per key, when an ACTIVE key passes rotationDue. */
    ANNOUNCE_OVERDUE,
    /** A RETIRED key past verifyUntil is marked unpublished (it already left the JWKS at that instant). */
    UNPUBLISH,
    /** A RETIRED or REVOKED key's HSM object is destroyed at destroyAt; the key becomes DESTROYED. */
    DESTROY;

    public String tag() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
