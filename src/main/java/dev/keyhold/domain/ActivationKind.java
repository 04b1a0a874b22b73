package dev.keyhold.domain;

/** What an approved request puts into effect. All need the same M-of-N custodian approval. */
public enum ActivationKind {
    KEY_ACTIVATION, ISSUER_RESUME, POLICY_CHANGE
}
