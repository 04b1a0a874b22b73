package dev.keyhold.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.error.ProblemException;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code GET /v1/audit/export}: the records of a time window exactly as stored (details as the text that was hashed),
 * the checkpoints that sign records of the window, and the audit key's public JWK, in one document that
 * {@code dev.keyhold.tools.VerifyAudit} checks offline. Read in one REPEATABLE READ snapshot, so records and
 * checkpoints committed meanwhile cannot make a consistent window look broken. Writes nothing: an auditor who wants
 * the newest records vouched for asks for a checkpoint first ({@code POST /v1/audit/checkpoints}).
 */
@ApplicationScoped
public class AuditExport {

    public static final String FORMAT = "keyhold-audit-export/1";
    /** Larger windows are refused (422): export them in parts. */
    public static final int MAX_RECORDS = 200_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    AgroalDataSource ds;
    @Inject
    Clock clock;

    public record Document(String format, Instant exportedAt, Instant from, Instant to, List<JsonNode> auditKeys,
                           List<Record> records, List<Checkpoint> checkpoints) {
    }

    public record Record(long seq, String recordedAt, String node, String actor, String action, String outcome,
                         String issuerId, String kid, String requestId, String details, String prevHash, String hash) {
    }

    public record Checkpoint(long seq, String hash, String time, String node, String keyId, String signature) {
    }

    public Document export(Instant from, Instant to) {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            c.setReadOnly(true);
            try {
                return export(c, from, to);
            } finally {
                c.rollback();
            }
        } catch (SQLException e) {
            throw ProblemException.unavailable("database-unavailable", "the audit trail could not be read");
        }
    }

    private Document export(Connection c, Instant from, Instant to) throws SQLException {
        String window = " where recorded_at >= ? and recorded_at < ?";
        Timestamp a = Timestamp.from(from == null ? Instant.EPOCH : from);
        Timestamp b = Timestamp.from(to == null ? Instant.parse("9999-12-31T00:00:00Z") : to);
        try (PreparedStatement ps = c.prepareStatement("select count(*) from audit_record" + window)) {
            ps.setTimestamp(1, a);
            ps.setTimestamp(2, b);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getLong(1) > MAX_RECORDS) {
                    throw new ProblemException(422, "window-too-large", "The window is too large", "the window holds "
                            + rs.getLong(1) + " records; export at most " + MAX_RECORDS + " at a time", null);
                }
            }
        }
        List<Record> records = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select " + AuditRow.COLUMNS + " from audit_record" + window
                + " order by seq")) {
            ps.setFetchSize(2000);
            ps.setTimestamp(1, a);
            ps.setTimestamp(2, b);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    AuditRow r = AuditRow.read(rs);
                    records.add(new Record(r.seq(), r.recordedAt().toString(), r.node(), r.actor(), r.action(),
                            r.outcome(), r.issuerId(), r.kid(), r.requestId(), r.detailsJson(), r.prevHash(), r.hash()));
                }
            }
        }
        List<Checkpoint> checkpoints = new ArrayList<>();
        if (!records.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement("select seq, hash, signed_at, node, key_id, signature"
                    + " from audit_checkpoint where seq between ? and ? order by seq, id")) {
                ps.setLong(1, records.get(0).seq());
                ps.setLong(2, records.get(records.size() - 1).seq());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        checkpoints.add(new Checkpoint(rs.getLong(1), rs.getString(2),
                                rs.getObject(3, OffsetDateTime.class).toInstant().toString(), rs.getString(4),
                                rs.getString(5), rs.getString(6)));
                    }
                }
            }
        }
        return new Document(FORMAT, clock.instant(), from, to, publicKeys(c), records, checkpoints);
    }

    /** Every audit key's public JWK, as stored (also used by the ledger export). */
    public static List<JsonNode> publicKeys(Connection c) throws SQLException {
        List<JsonNode> keys = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select public_jwk from audit_key order by created_at, kid");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                try {
                    keys.add(JSON.readTree(rs.getString(1)));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalStateException("stored audit key is not JSON", e);
                }
            }
        }
        return keys;
    }
}
