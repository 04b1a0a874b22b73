package dev.keyhold.evidence;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keyhold.audit.AuditExport;
import dev.keyhold.audit.ExportSnapshot;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
        snapshot.refuseLargerThan(
                "select coalesce(sum(token_count), 0) from ledger_batch" + ExportSnapshot.WINDOW, MAX_TOKENS, "tokens");
        List<Batch> batches = new ArrayList<>();
        try (PreparedStatement ps = snapshot.windowed("select seq, recorded_at, node, token_count, tokens_digest,"
                        + " prev_hash, hash from ledger_batch" + ExportSnapshot.WINDOW + " order by seq");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                batches.add(new Batch(
                        rs.getLong(1),
                        rs.getObject(2, OffsetDateTime.class).toInstant().toString(),
                        rs.getString(3),
                        rs.getInt(4),
                        rs.getString(5),
                        rs.getString(6),
                        rs.getString(7),
                        new ArrayList<>()));
            }
        }
        if (!batches.isEmpty()) {
            Map<Long, Batch> bySeq = new HashMap<>();
            batches.forEach(x -> bySeq.put(x.seq(), x));
            try (PreparedStatement ps = snapshot.windowed("select batch_seq, position, encode(token_sha256, 'hex'),"
                    + " jti, kid, issuer_id, sub, aud, iat, exp from ledger_token" + ExportSnapshot.WINDOW
                    + " order by batch_seq, position")) {
                ps.setFetchSize(5000);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Batch x = bySeq.get(rs.getLong(1));
                        if (x != null) {
                            x.tokens()
                                    .add(new Token(
                                            rs.getInt(2),
                                            rs.getString(3),
                                            rs.getString(4),
                                            rs.getString(5),
                                            rs.getString(6),
                                            rs.getString(7),
                                            rs.getString(8),
                                            rs.getLong(9),
                                            rs.getLong(10)));
                        }
                    }
                }
            }
        }
        List<ExportSnapshot.Checkpoint> checkpoints = batches.isEmpty()
                ? List.of()
                : snapshot.checkpoints(
                        "ledger_checkpoint",
                        batches.get(0).seq(),
                        batches.get(batches.size() - 1).seq());
        Connection c = snapshot.connection();
        Instant coveredFrom;
        try (PreparedStatement ps = c.prepareStatement("select covered_from from ledger_head where id = 1");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            coveredFrom = rs.getObject(1, OffsetDateTime.class).toInstant();
        }
        return new Document(
                FORMAT, clock.instant(), from, to, coveredFrom, AuditExport.publicKeys(c), batches, checkpoints);
    }
}
