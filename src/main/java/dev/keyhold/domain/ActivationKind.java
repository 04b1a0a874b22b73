package dev.keyhold.domain;

/** What an approved request puts into effect. All need the same M-of-N custodian approval. */
public enum ActivationKind {
    KEY_ACTIVATION,
    ISSUER_RESUME,
    POLICY_CHANGE,
    /** Carried out by {@code trust/TrustRollbacks}. */
    TRUST_ROLLBACK,
    /** The trust key's rotation, decided by the governing issuer's custodians; {@code trust/TrustKeyRotations}. */
    TRUST_KEY_ROTATION
}
