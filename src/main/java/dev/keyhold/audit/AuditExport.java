package dev.keyhold.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
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

    public record Document(
            String format,
            Instant exportedAt,
            Instant from,
            Instant to,
            List<JsonNode> auditKeys,
            List<Record> records,
            List<ExportSnapshot.Checkpoint> checkpoints) {}

    public record Record(
            long seq,
            String recordedAt,
            String node,
            String actor,
            String action,
            String outcome,
            String issuerId,
            String kid,
            String requestId,
            String details,
            String prevHash,
            String hash) {}

    public Document export(Instant from, Instant to) {
        return ExportSnapshot.read(ds, from, to, "the audit trail", snapshot -> export(snapshot, from, to));
    }

    private Document export(ExportSnapshot snapshot, Instant from, Instant to) throws SQLException {
        snapshot.refuseLargerThan("select count(*) from audit_record" + ExportSnapshot.WINDOW, MAX_RECORDS, "records");
        List<Record> records = new ArrayList<>();
        try (PreparedStatement ps = snapshot.windowed(
                "select " + AuditRow.COLUMNS + " from audit_record" + ExportSnapshot.WINDOW + " order by seq")) {
            ps.setFetchSize(2000);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    AuditRow r = AuditRow.read(rs);
                    records.add(new Record(
                            r.seq(),
                            r.recordedAt().toString(),
                            r.node(),
                            r.actor(),
                            r.action(),
                            r.outcome(),
                            r.issuerId(),
                            r.kid(),
                            r.requestId(),
                            r.detailsJson(),
                            r.prevHash(),
                            r.hash()));
                }
            }
        }
        List<ExportSnapshot.Checkpoint> checkpoints = records.isEmpty()
                ? List.of()
                : snapshot.checkpoints(
                        "audit_checkpoint",
                        records.get(0).seq(),
                        records.get(records.size() - 1).seq());
        return new Document(FORMAT, clock.instant(), from, to, publicKeys(snapshot.connection()), records, checkpoints);
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
