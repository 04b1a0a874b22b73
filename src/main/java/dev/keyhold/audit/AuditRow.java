package dev.keyhold.audit;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;

/** One stored audit record exactly as the database holds it (details as the canonical JSON text that was hashed). */
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

    static final String COLUMNS =
            "seq, recorded_at, node, actor, action, outcome, issuer_id, kid, request_id, details," + " prev_hash, hash";

    static AuditRow read(ResultSet rs) throws SQLException {
        return new AuditRow(
                rs.getLong(1),
                rs.getObject(2, OffsetDateTime.class).toInstant(),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                rs.getString(6),
                rs.getString(7),
                rs.getString(8),
                rs.getString(9),
                rs.getString(10),
                rs.getString(11),
                rs.getString(12));
    }

    /** The hash this record must carry given its own fields and {@code prev}. */
    public String expectedHash(String prev) {
        return AuditHash.compute(
                seq, recordedAt, node, actor, action, outcome, issuerId, kid, requestId, detailsJson, prev);
    }
}
