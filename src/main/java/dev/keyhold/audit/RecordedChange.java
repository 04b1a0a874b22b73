package dev.keyhold.audit;

/** Fired (CDI) for every recorded change; observers use it after commit, e.g. to refresh an issuer's JWKS. */
public record RecordedChange(long auditSeq, String action, String issuerId, String kid) {
}
