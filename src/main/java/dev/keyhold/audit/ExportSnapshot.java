package dev.keyhold.audit;

import dev.keyhold.error.ProblemException;
import io.agroal.api.AgroalDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * What the hash-chained exports (the audit trail's and the evidence ledger's) share: one read-only REPEATABLE READ
 * snapshot, the time window {@code [from, to)} with open ends, the size limit that refuses a window too large (422),
 * and the signed checkpoints over a range of sequence numbers.
 */
public final class ExportSnapshot {

    /** {@code recorded_at} within the window; its two parameters are {@link #from()} and {@link #to()}. */
    public static final String WINDOW = " where recorded_at >= ? and recorded_at < ?";

    /** A checkpoint as exported: the chain's hash at {@code seq}, signed by the audit key {@code keyId}. */
    public record Checkpoint(long seq, String hash, String time, String node, String keyId, String signature) {}

    @FunctionalInterface
    public interface Read<T> {
        T read(ExportSnapshot snapshot) throws SQLException;
    }

    private final Connection connection;
    private final OffsetDateTime from;
    private final OffsetDateTime to;

    private ExportSnapshot(Connection connection, Instant from, Instant to) {
        this.connection = connection;
        this.from = OffsetDateTime.ofInstant(from == null ? Instant.EPOCH : from, ZoneOffset.UTC);
        this.to = OffsetDateTime.ofInstant(to == null ? Instant.parse("9999-12-31T00:00:00Z") : to, ZoneOffset.UTC);
    }

    /** Runs {@code read} in one read-only snapshot that is rolled back afterwards; a database failure is a 503. */
    public static <T> T read(AgroalDataSource ds, Instant from, Instant to, String what, Read<T> read) {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            c.setReadOnly(true);
            try {
                return read.read(new ExportSnapshot(c, from, to));
            } finally {
                c.rollback();
            }
        } catch (SQLException e) {
            throw ProblemException.unavailable("database-unavailable", what + " could not be read");
        }
    }

    public Connection connection() {
        return connection;
    }

    /** A statement whose first two parameters are the window's ends ({@link #WINDOW}). */
    public PreparedStatement windowed(String sql) throws SQLException {
        PreparedStatement ps = connection.prepareStatement(sql);
        ps.setObject(1, from);
        ps.setObject(2, to);
        return ps;
    }

    /**
     * Refuses a window in which {@code countSql} (a windowed count: one row, one column) finds more than {@code max}
     * {@code unit}. The count is read by name: the query runs as a scalar subquery labelled {@code n}.
     */
    public void refuseLargerThan(String countSql, long max, String unit) throws SQLException {
        try (PreparedStatement ps = windowed("select (" + countSql + ") as n");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            long n = rs.getLong("n");
            if (n > max) {
                throw ProblemException.unprocessable(
                        "window-too-large",
                        "The window is too large",
                        "the window holds " + n + " " + unit + "; export at most " + max + " at a time");
            }
        }
    }

    /**
     * The checkpoints of {@code table} (a checkpoint table of the audit key's shape: {@code ledger_checkpoint}) in a
     * seq range. The audit trail's own checkpoints are read by {@link AuditStore#checkpointsBetween}.
     */
    public List<Checkpoint> checkpoints(String table, long firstSeq, long lastSeq) throws SQLException {
        List<Checkpoint> checkpoints = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement("select seq, hash, signed_at, node, key_id, signature"
                + " from " + table + " where seq between ? and ? order by seq, id")) {
            ps.setLong(1, firstSeq);
            ps.setLong(2, lastSeq);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    checkpoints.add(checkpoint(rs));
                }
            }
        }
        return checkpoints;
    }

    /** One checkpoint row selected with the columns of {@link #checkpoints}, by column name. */
    public static Checkpoint checkpoint(ResultSet rs) throws SQLException {
        return new Checkpoint(
                rs.getLong("seq"),
                rs.getString("hash"),
                rs.getObject("signed_at", OffsetDateTime.class).toInstant().toString(),
                rs.getString("node"),
                rs.getString("key_id"),
                rs.getString("signature"));
    }
}
