package dev.keyhold.domain;

public enum IssuerStatus {
    /** Signing allowed (given an ACTIVE key). */
    ACTIVE,
    /** Kill switch pulled: nothing signs for this issuer until an M-of-N approved resume. */
    SUSPENDED
}
