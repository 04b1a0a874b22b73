package dev.keyhold.evidence;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keyhold.audit.AuditExport;
import dev.keyhold.audit.ExportSnapshot;
import dev.keyhold.error.ProblemException;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

/**
 * {@code GET /v1/evidence/ledger/export}: the ledger batches of a time window with their tokens (hashes and claims,
 * never the tokens), the ledger checkpoints signing them and the audit key's public JWK, for
 * {@code dev.keyhold.tools.VerifyAudit}. One REPEATABLE READ snapshot; writes nothing.
 */
@ApplicationScoped
public class LedgerExport {

    public static final String FORMAT = "keyhold-ledger-export/1";
    /** Larger windows are refused (422): export them in parts. */
    public static final int MAX_TOKENS = 200_000;

    @Inject
    AgroalDataSource ds;

    @Inject
    LedgerStore store;

    @Inject
    Clock clock;

    public record Document(
            String format,
            Instant exportedAt,
            Instant from,
            Instant to,
            Instant coveredFrom,
            List<JsonNode> auditKeys,
            List<Batch> batches,
            List<ExportSnapshot.Checkpoint> checkpoints) {}

    public record Batch(
            long seq,
            String recordedAt,
            String node,
            int tokenCount,
            String tokensDigest,
            String prevHash,
            String hash,
            List<Token> tokens) {}

    public record Token(
            int position,
            String sha256,
            String jti,
            String kid,
            String issuer,
            String sub,
            String aud,
            long iat,
            long exp) {}

    public Document export(Instant from, Instant to) {
        return ExportSnapshot.read(ds, from, to, "the ledger", snapshot -> export(snapshot, from, to));
    }

    private Document export(ExportSnapshot snapshot, Instant from, Instant to) throws SQLException {
        long tokens = store.tokensInWindow(snapshot);
        if (tokens > MAX_TOKENS) {
            throw ProblemException.unprocessable(
                    "window-too-large",
                    "The window is too large",
                    "the window holds " + tokens + " tokens; export at most " + MAX_TOKENS + " at a time");
        }
        List<Batch> batches = store.batchesInWindow(snapshot);
        List<ExportSnapshot.Checkpoint> checkpoints = batches.isEmpty()
                ? List.of()
                : store.checkpoints(
                        snapshot,
                        batches.get(0).seq(),
                        batches.get(batches.size() - 1).seq());
        Instant coveredFrom = store.coveredFrom(snapshot);
        return new Document(
                FORMAT,
                clock.instant(),
                from,
                to,
                coveredFrom,
                AuditExport.publicKeys(snapshot.connection()),
                batches,
                checkpoints);
    }
}
