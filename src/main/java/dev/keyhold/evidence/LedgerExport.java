package dev.keyhold.evidence;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keyhold.audit.AuditExport;
import dev.keyhold.error.ProblemException;
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
import java.time.ZoneOffset;
import java.util.ArrayList;
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
    Clock clock;

    public record Document(String format, Instant exportedAt, Instant from, Instant to, Instant coveredFrom,
                           List<JsonNode> auditKeys, List<Batch> batches, List<Checkpoint> checkpoints) {
    }

    public record Batch(long seq, String recordedAt, String node, int tokenCount, String tokensDigest,
                        String prevHash, String hash, List<Token> tokens) {
    }

    public record Token(int position, String sha256, String jti, String kid, String issuer, String sub, String aud,
                        long iat, long exp) {
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
            throw ProblemException.unavailable("database-unavailable", "the ledger could not be read");
        }
    }

    private Document export(Connection c, Instant from, Instant to) throws SQLException {
        OffsetDateTime a = OffsetDateTime.ofInstant(from == null ? Instant.EPOCH : from, ZoneOffset.UTC);
        OffsetDateTime b = OffsetDateTime.ofInstant(to == null ? Instant.parse("9999-12-31T00:00:00Z") : to,
                ZoneOffset.UTC);
        String window = " where recorded_at >= ? and recorded_at < ?";
        try (PreparedStatement ps = c.prepareStatement("select coalesce(sum(token_count), 0) from ledger_batch" + window)) {
            ps.setObject(1, a);
            ps.setObject(2, b);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getLong(1) > MAX_TOKENS) {
                    throw new ProblemException(422, "window-too-large", "The window is too large", "the window holds "
                            + rs.getLong(1) + " tokens; export at most " + MAX_TOKENS + " at a time", null);
                }
            }
        }
        List<Batch> batches = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select seq, recorded_at, node, token_count, tokens_digest,"
                + " prev_hash, hash from ledger_batch" + window + " order by seq")) {
            ps.setObject(1, a);
            ps.setObject(2, b);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    batches.add(new Batch(rs.getLong(1), rs.getObject(2, OffsetDateTime.class).toInstant().toString(),
                            rs.getString(3), rs.getInt(4), rs.getString(5), rs.getString(6), rs.getString(7),
                            new ArrayList<>()));
                }
            }
        }
        if (!batches.isEmpty()) {
            java.util.Map<Long, Batch> bySeq = new java.util.HashMap<>();
            batches.forEach(x -> bySeq.put(x.seq(), x));
            try (PreparedStatement ps = c.prepareStatement("select batch_seq, position, encode(token_sha256, 'hex'),"
                    + " jti, kid, issuer_id, sub, aud, iat, exp from ledger_token" + window
                    + " order by batch_seq, position")) {
                ps.setFetchSize(5000);
                ps.setObject(1, a);
                ps.setObject(2, b);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Batch x = bySeq.get(rs.getLong(1));
                        if (x != null) {
                            x.tokens().add(new Token(rs.getInt(2), rs.getString(3), rs.getString(4), rs.getString(5),
                                    rs.getString(6), rs.getString(7), rs.getString(8), rs.getLong(9), rs.getLong(10)));
                        }
                    }
                }
            }
        }
        List<Checkpoint> checkpoints = new ArrayList<>();
        if (!batches.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement("select seq, hash, signed_at, node, key_id, signature"
                    + " from ledger_checkpoint where seq between ? and ? order by seq, id")) {
                ps.setLong(1, batches.get(0).seq());
                ps.setLong(2, batches.get(batches.size() - 1).seq());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        checkpoints.add(new Checkpoint(rs.getLong(1), rs.getString(2),
                                rs.getObject(3, OffsetDateTime.class).toInstant().toString(), rs.getString(4),
                                rs.getString(5), rs.getString(6)));
                    }
                }
            }
        }
        Instant coveredFrom;
        try (PreparedStatement ps = c.prepareStatement("select covered_from from ledger_head where id = 1");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            coveredFrom = rs.getObject(1, OffsetDateTime.class).toInstant();
        }
        return new Document(FORMAT, clock.instant(), from, to, coveredFrom, AuditExport.publicKeys(c), batches,
                checkpoints);
    }
}
