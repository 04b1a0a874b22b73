package dev.keyhold.audit;

import java.time.Instant;

/**
 * One stored audit record exactly as the database holds it (details as the canonical JSON text that was hashed). Read
 * and written by {@link AuditStore}.
 */
public record AuditRow(
        long seq,
        Instant recordedAt,
        String node,
        String actor,
        String action,
        String outcome,
        String issuerId,
        String kid,
        String requestId,
        String detailsJson,
        String prevHash,
        String hash) {

    /** The hash this record must carry given its own fields and {@code prev}. */
    public String expectedHash(String prev) {
        return AuditHash.compute(
                seq, recordedAt, node, actor, action, outcome, issuerId, kid, requestId, detailsJson, prev);
    }
}
