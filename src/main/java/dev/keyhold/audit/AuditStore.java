package dev.keyhold.audit;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.Tuple;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The audit aggregate's store: the only class that holds SQL for {@code audit_record}, {@code audit_checkpoint} and
 * {@code audit_key}. Rows are read by column name into records, never by position.
 *
 * <p>Methods that use the {@link EntityManager} join the caller's transaction (the chain's writer, checkpoints, the
 * audit key, metrics). Methods that take a {@link Connection} run on the caller's JDBC connection: verification and
 * exports read in one REPEATABLE READ snapshot of their own, and the ledger export reads the audit keys in its own
 * snapshot. The auditor queries read through the data source, plain JDBC, each statement on its own.
 */
@ApplicationScoped
public class AuditStore {

    /** Every column of {@code audit_record}, in the order of {@link AuditRow}. */
    static final String COLUMNS =
            "seq, recorded_at, node, actor, action, outcome, issuer_id, kid, request_id, details, prev_hash, hash";

    @Inject
    EntityManager em;

    @Inject
    AgroalDataSource ds;

    /** The newest record of the chain: what the next record links to. */
    public record ChainHead(long seq, String hash, Instant recordedAt) {}

    /** The newest record's seq and the newest checkpoint's seq (0 when there is none). */
    public record ChainProgress(long headSeq, long checkpointedSeq) {}

    /**
     * How far the checkpoints vouch for the chain: the time of the newest checkpoint (null when there is none) and the
     * time of the oldest record after the newest checkpoint (null when every record is covered).
     */
    public record CheckpointCoverage(Instant newestCheckpointAt, Instant oldestUncheckpointedAt) {}

    /** An {@code audit_key} row: the public half of an audit key, as stored. */
    public record StoredAuditKey(String kid, String partition, String handle, String publicJwk) {}

    /** An {@code audit_checkpoint} row. */
    public record StoredCheckpoint(long id, Checkpoints.CheckpointView view) {}

    /** Receives records one at a time while they stream from the database. */
    @FunctionalInterface
    public interface RecordSink {
        void accept(AuditRow row) throws SQLException;
    }

    // --- the chain's writer (ChangeRecorder) and checkpoints: the caller's transaction, holding the chain lock ---

    /**
     * Takes the chain's transaction-scoped advisory lock ({@link ChangeRecorder#CHAIN_LOCK}): appends are serialised,
     * so the chain stays one line and outbox sequence numbers become visible in commit order.
     */
    public void lockChain() {
        em.createNativeQuery("select count(*) from (select pg_advisory_xact_lock(?1)) l")
                .setParameter(1, ChangeRecorder.CHAIN_LOCK)
                .getSingleResult();
    }

    /** The newest record, if the chain has one. */
    public Optional<ChainHead> head() {
        List<?> rows = em.createNativeQuery(
                        "select seq, hash, recorded_at from audit_record order by seq desc limit 1", Tuple.class)
                .getResultList();
        if (rows.isEmpty()) {
            return Optional.empty();
        }
        Tuple t = (Tuple) rows.get(0);
        return Optional.of(
                new ChainHead(number(t, "seq"), t.get("hash", String.class), SqlTime.instant(t.get("recorded_at"))));
    }

    /** Appends one record, exactly as given (its hash computed by the caller). */
    public void append(AuditRow r) {
        em.createNativeQuery("insert into audit_record (" + COLUMNS + ")"
                        + " values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")
                .setParameter(1, r.seq())
                .setParameter(2, Timestamp.from(r.recordedAt()))
                .setParameter(3, r.node())
                .setParameter(4, r.actor())
                .setParameter(5, r.action())
                .setParameter(6, r.outcome())
                .setParameter(7, r.issuerId())
                .setParameter(8, r.kid())
                .setParameter(9, r.requestId())
                .setParameter(10, r.detailsJson())
                .setParameter(11, r.prevHash())
                .setParameter(12, r.hash())
                .executeUpdate();
    }

    /** The hash of record {@code seq}; fails when there is no such record. */
    public String hashAt(long seq) {
        Tuple t = (Tuple) em.createNativeQuery("select hash from audit_record where seq = ?1", Tuple.class)
                .setParameter(1, seq)
                .getSingleResult();
        return t.get("hash", String.class);
    }

    /** Stores a signed checkpoint. */
    public void insertCheckpoint(Checkpoints.CheckpointView c, String requestedBy) {
        em.createNativeQuery("insert into audit_checkpoint (seq, hash, signed_at, node, key_id, signature,"
                        + " requested_by) values (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                .setParameter(1, c.seq())
                .setParameter(2, c.hash())
                .setParameter(3, Timestamp.from(c.time()))
                .setParameter(4, c.node())
                .setParameter(5, c.keyId())
                .setParameter(6, c.signature())
                .setParameter(7, requestedBy)
                .executeUpdate();
    }

    /** The newest record's seq and the newest checkpoint's: the periodic job signs only when the head moved. */
    public ChainProgress progress() {
        Tuple t = (Tuple) em.createNativeQuery(
                        "select (select coalesce(max(seq), 0) from audit_record) as head_seq,"
                                + " (select coalesce(max(seq), 0) from audit_checkpoint) as checkpointed_seq",
                        Tuple.class)
                .getSingleResult();
        return new ChainProgress(number(t, "head_seq"), number(t, "checkpointed_seq"));
    }

    /**
     * The time of the newest checkpoint and the recorded_at of the oldest record after the newest checkpoint (the
     * operations metrics' checkpoint age and uncheckpointed time). Joins the caller's transaction.
     */
    public CheckpointCoverage checkpointCoverage() {
        Tuple t = (Tuple) em.createNativeQuery(
                        "select (select max(signed_at) from audit_checkpoint) as newest_checkpoint_at,"
                                + " (select min(recorded_at) from audit_record where seq >"
                                + " (select coalesce(max(seq), 0) from audit_checkpoint)) as oldest_uncheckpointed_at",
                        Tuple.class)
                .getSingleResult();
        return new CheckpointCoverage(
                nullableInstant(t.get("newest_checkpoint_at")), nullableInstant(t.get("oldest_uncheckpointed_at")));
    }

    // --- the audit key ---

    /** The stored audit key of an HSM partition and handle, if any. */
    public Optional<StoredAuditKey> auditKey(String partition, String handle) {
        List<?> rows = em.createNativeQuery(
                        "select kid, partition_name, hsm_handle, public_jwk from audit_key"
                                + " where partition_name = ?1 and hsm_handle = ?2",
                        Tuple.class)
                .setParameter(1, partition)
                .setParameter(2, handle)
                .getResultList();
        return rows.isEmpty() ? Optional.empty() : Optional.of(auditKeyRow((Tuple) rows.get(0)));
    }

    /** Stores an audit key's public half; nothing when a row for it exists already (another instance was first). */
    public void insertAuditKey(
            String kid, String partition, String handle, String algorithm, String publicJwk, Instant createdAt) {
        em.createNativeQuery("insert into audit_key (kid, partition_name,"
                        + " hsm_handle, algorithm, public_jwk, created_at) values (?1, ?2, ?3, ?4, ?5, ?6)"
                        + " on conflict do nothing")
                .setParameter(1, kid)
                .setParameter(2, partition)
                .setParameter(3, handle)
                .setParameter(4, algorithm)
                .setParameter(5, publicJwk)
                .setParameter(6, Timestamp.from(createdAt))
                .executeUpdate();
    }

    // --- verification: the caller's read-only snapshot ---

    /** Every stored audit key. */
    public static List<StoredAuditKey> auditKeys(Connection c) throws SQLException {
        List<StoredAuditKey> keys = new ArrayList<>();
        try (PreparedStatement ps =
                        c.prepareStatement("select kid, partition_name, hsm_handle, public_jwk from audit_key");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                keys.add(new StoredAuditKey(
                        rs.getString("kid"),
                        rs.getString("partition_name"),
                        rs.getString("hsm_handle"),
                        rs.getString("public_jwk")));
            }
        }
        return keys;
    }

    /** Every stored checkpoint, in seq order (then id). */
    public static List<StoredCheckpoint> checkpoints(Connection c) throws SQLException {
        List<StoredCheckpoint> checkpoints = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select id, seq, hash, signed_at, node, key_id, signature"
                        + " from audit_checkpoint order by seq, id");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                checkpoints.add(new StoredCheckpoint(
                        rs.getLong("id"),
                        new Checkpoints.CheckpointView(
                                rs.getLong("seq"),
                                rs.getString("hash"),
                                rs.getObject("signed_at", OffsetDateTime.class).toInstant(),
                                rs.getString("node"),
                                rs.getString("key_id"),
                                rs.getString("signature"))));
            }
        }
        return checkpoints;
    }

    /** Streams every record in seq order, {@code fetchSize} rows at a time, to {@code sink}. */
    public static void everyRecord(Connection c, int fetchSize, RecordSink sink) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select " + COLUMNS + " from audit_record order by seq")) {
            ps.setFetchSize(fetchSize);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    sink.accept(row(rs));
                }
            }
        }
    }

    /** The hash of record {@code seq}, if it exists. */
    public static Optional<String> hashAt(Connection c, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select hash from audit_record where seq = ?")) {
            ps.setLong(1, seq);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString("hash")) : Optional.empty();
            }
        }
    }

    // --- exports: the caller's snapshot ---

    /** Refuses (422) a window holding more than {@code max} records. */
    public static void refuseWindowLargerThan(ExportSnapshot snapshot, long max) throws SQLException {
        snapshot.refuseLargerThan("select count(*) as n from audit_record" + ExportSnapshot.WINDOW, max, "records");
    }

    /** The records of the snapshot's window, in seq order. */
    public static List<AuditRow> recordsInWindow(ExportSnapshot snapshot) throws SQLException {
        List<AuditRow> records = new ArrayList<>();
        try (PreparedStatement ps = snapshot.windowed(
                "select " + COLUMNS + " from audit_record" + ExportSnapshot.WINDOW + " order by seq")) {
            ps.setFetchSize(2000);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    records.add(row(rs));
                }
            }
        }
        return records;
    }

    /** The checkpoints that sign records {@code firstSeq} to {@code lastSeq}, in seq order (then id). */
    public static List<ExportSnapshot.Checkpoint> checkpointsBetween(
            ExportSnapshot snapshot, long firstSeq, long lastSeq) throws SQLException {
        List<ExportSnapshot.Checkpoint> checkpoints = new ArrayList<>();
        try (PreparedStatement ps = snapshot.connection()
                .prepareStatement("select seq, hash, signed_at, node, key_id, signature"
                        + " from audit_checkpoint where seq between ? and ? order by seq, id")) {
            ps.setLong(1, firstSeq);
            ps.setLong(2, lastSeq);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    checkpoints.add(ExportSnapshot.checkpoint(rs));
                }
            }
        }
        return checkpoints;
    }

    /** Every audit key's public JWK as stored, oldest first. */
    public static List<String> publicJwks(Connection c) throws SQLException {
        List<String> jwks = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select public_jwk from audit_key order by created_at, kid");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                jwks.add(rs.getString("public_jwk"));
            }
        }
        return jwks;
    }

    // --- auditor queries (GET /v1/audit, a key's history): plain JDBC through the data source ---

    /** The seq of the first record at or after {@code at}, in (recorded_at, seq) order. */
    public Optional<Long> firstSeqAtOrAfter(Instant at) {
        return probe("select seq from audit_record where recorded_at >= ? order by recorded_at, seq limit 1", at);
    }

    /** The seq of the last record before {@code at}, in (recorded_at, seq) order. */
    public Optional<Long> lastSeqBefore(Instant at) {
        return probe(
                "select seq from audit_record where recorded_at < ? order by recorded_at desc, seq desc limit 1", at);
    }

    /**
     * At most {@code limit} records after seq {@code after} (and up to {@code upTo} when given), each null filter
     * meaning "any", in seq order.
     */
    public List<AuditRow> page(
            long after, Long upTo, String issuerId, String kid, String actor, String action, int limit) {
        StringBuilder sql = new StringBuilder("select " + COLUMNS + " from audit_record where seq > ?");
        List<Object> args = new ArrayList<>();
        args.add(after);
        if (upTo != null) {
            sql.append(" and seq <= ?");
            args.add(upTo);
        }
        filter(sql, args, "issuer_id", issuerId);
        filter(sql, args, "kid", kid);
        filter(sql, args, "actor", actor);
        filter(sql, args, "action", action);
        sql.append(" order by seq limit ?");
        args.add(limit);
        return query(sql.toString(), args);
    }

    /** Every record naming the kid, oldest first. */
    public List<AuditRow> byKid(String kid) {
        return query("select " + COLUMNS + " from audit_record where kid = ? order by seq", List.of(kid));
    }

    private Optional<Long> probe(String sql, Instant at) {
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setTimestamp(1, Timestamp.from(at));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getLong("seq")) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("audit query failed", e);
        }
    }

    private static void filter(StringBuilder sql, List<Object> args, String column, String value) {
        if (value != null) {
            sql.append(" and ").append(column).append(" = ?");
            args.add(value);
        }
    }

    private List<AuditRow> query(String sql, List<Object> args) {
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            List<AuditRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(row(rs));
                }
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException("audit query failed", e);
        }
    }

    // --- rows, by column name ---

    /** One {@code audit_record} row selected with {@link #COLUMNS}. */
    static AuditRow row(ResultSet rs) throws SQLException {
        return new AuditRow(
                rs.getLong("seq"),
                rs.getObject("recorded_at", OffsetDateTime.class).toInstant(),
                rs.getString("node"),
                rs.getString("actor"),
                rs.getString("action"),
                rs.getString("outcome"),
                rs.getString("issuer_id"),
                rs.getString("kid"),
                rs.getString("request_id"),
                rs.getString("details"),
                rs.getString("prev_hash"),
                rs.getString("hash"));
    }

    private static StoredAuditKey auditKeyRow(Tuple t) {
        return new StoredAuditKey(
                t.get("kid", String.class),
                t.get("partition_name", String.class),
                t.get("hsm_handle", String.class),
                t.get("public_jwk", String.class));
    }

    private static long number(Tuple t, String column) {
        return ((Number) t.get(column)).longValue();
    }

    private static Instant nullableInstant(Object o) {
        return o == null ? null : SqlTime.instant(o);
    }
}
