package dev.keyhold.audit;

/**
 * Fired (CDI) for every recorded change; observers use it after commit, e.g. to refresh an issuer's JWKS (only for
 * announced changes: an audit-only record such as a denial changes nothing a cache holds).
 */
public record RecordedChange(long auditSeq, String action, String issuerId, String kid, long outboxSeq) {

    /** A change recorded in the audit trail only (no outbox event). */
    public RecordedChange(long auditSeq, String action, String issuerId, String kid) {
        this(auditSeq, action, issuerId, kid, 0);
    }

    /** Whether the change wrote an outbox event ({@link #outboxSeq} is then its sequence number). */
    public boolean announced() {
        return outboxSeq > 0;
    }
}
