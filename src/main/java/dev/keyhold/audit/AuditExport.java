package dev.keyhold.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.Connection;
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
        AuditStore.refuseWindowLargerThan(snapshot, MAX_RECORDS);
        List<Record> records = new ArrayList<>();
        for (AuditRow r : AuditStore.recordsInWindow(snapshot)) {
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
        List<ExportSnapshot.Checkpoint> checkpoints = records.isEmpty()
                ? List.of()
                : AuditStore.checkpointsBetween(
                        snapshot,
                        records.get(0).seq(),
                        records.get(records.size() - 1).seq());
        return new Document(FORMAT, clock.instant(), from, to, publicKeys(snapshot.connection()), records, checkpoints);
    }

    /** Every audit key's public JWK, as stored (also used by the ledger export). */
    public static List<JsonNode> publicKeys(Connection c) throws SQLException {
        List<JsonNode> keys = new ArrayList<>();
        for (String jwk : AuditStore.publicJwks(c)) {
            try {
                keys.add(JSON.readTree(jwk));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException("stored audit key is not JSON", e);
            }
        }
        return keys;
    }
}
