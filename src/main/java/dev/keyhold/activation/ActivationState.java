package dev.keyhold.activation;

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

    public boolean live() {
        return this == OPEN || this == APPROVED;
    }
}
