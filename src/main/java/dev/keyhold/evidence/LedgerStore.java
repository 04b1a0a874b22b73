package dev.keyhold.evidence;

import dev.keyhold.audit.ExportSnapshot;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.Tuple;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The issuance ledger's store: the only class with SQL on {@code ledger_head}, {@code ledger_batch},
 * {@code ledger_token} and {@code ledger_checkpoint}, the daily partitions' DDL included. Rows are read by column
 * name. Plain JDBC throughout, as the ledger always was:
 * <ul>
 *   <li>static methods on a caller's {@link Connection}: the writer's two statements (the writer, {@link
 *       IssuanceLedger}, is plain Java without CDI, so that a crash test can run it in a child JVM), the partitions'
 *       DDL ({@link LedgerPartitions} keeps which days exist) and the export's reads in its snapshot;
 *   <li>instance methods on the application's pool (or, for the operations metrics, its EntityManager), joining the
 *       caller's transaction where there is one.
 * </ul>
 * Transactions stay with the callers: the writer's explicit one, the maintenance job's {@code requiringNew}.
 */
@ApplicationScoped
public class LedgerStore {

    @Inject
    AgroalDataSource ds;

    @Inject
    EntityManager em;

    /** The chain head: the newest batch's seq, hash and time (seq 0 and no time before the first batch). */
    public record Head(long seq, String hash, Instant recordedAt) {}

    /** A ledger row found by the token's hash (hex). */
    public record IssuedToken(String sha256, String jti, String kid, String issuerId, long iat, long exp, long batch) {}

    /**
     * How far the ledger's checkpoints lag: the time of the newest checkpoint, and the {@code recorded_at} of the
     * oldest batch after it (no checkpoint signs it yet); either null when there is none.
     */
    public record CheckpointLag(Instant newestCheckpointAt, Instant oldestUncheckpointedBatchAt) {}

    // ---- the writer's statements (static: the writer runs without CDI) ----

    /**
     * Batch, tokens and head in one statement (the writer then COMMITs). The head update is the compare-and-set: when
     * the head is not the one the writer knows, {@code head} is empty and so are both inserts. The set_config makes
     * this transaction's commit wait for the WAL flush even on a server whose default is
     * {@code synchronous_commit = off}. One fixed shape whatever the batch's size: the tokens are array parameters.
     */
    static final String WRITE_SQL = "with durable as (select set_config('synchronous_commit', 'on', true) as v),"
            + " head as (update ledger_head set seq = ?, hash = ?, recorded_at = ?"
            + " where id = 1 and seq = ? and hash = ? returning seq, hash, recorded_at),"
            + " batch as (insert into ledger_batch (seq, recorded_at, node, token_count, tokens_digest, prev_hash, hash)"
            + " select seq, recorded_at, ?, ?, ?, ?, hash from head),"
            + " tokens as (insert into ledger_token (recorded_at, batch_seq, position, token_sha256, jti, kid,"
            + " issuer_id, sub, aud, iat, exp)"
            + " select head.recorded_at, head.seq, (t.ord - 1)::integer, t.sha, t.jti, t.kid, t.iss, t.sub, t.aud,"
            + " t.iat, t.exp from head, unnest(?::bytea[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],"
            + " ?::bigint[], ?::bigint[]) with ordinality as t(sha, jti, kid, iss, sub, aud, iat, exp, ord))"
            + " select (select count(*) from head) as written, (select v from durable) as synchronous_commit";

    /** The head, and whether a batch (seq, hash) is in the ledger (after a write whose outcome is unknown). */
    static final String HEAD_SQL = "select seq, hash, recorded_at,"
            + " exists (select 1 from ledger_batch where seq = ? and hash = ?) as batch_recorded"
            + " from ledger_head where id = 1";

    /**
     * The head in the database; empty when the batch ({@code batchSeq}, {@code batchHash}) is already in the ledger
     * (the commit whose outcome was unknown went through). Pass -1 and "" to only read the head.
     */
    static Optional<Head> readHead(Connection c, long batchSeq, String batchHash) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(HEAD_SQL)) {
            ps.setLong(1, batchSeq);
            ps.setString(2, batchHash);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("ledger_head is missing (migration V9 not applied?)");
                }
                if (rs.getBoolean("batch_recorded")) {
                    return Optional.empty();
                }
                OffsetDateTime at = rs.getObject("recorded_at", OffsetDateTime.class);
                return Optional.of(
                        new Head(rs.getLong("seq"), rs.getString("hash"), at == null ? null : at.toInstant()));
            }
        }
    }

    /**
     * Writes the batch {@code next} with its entries after {@code head}, in the caller's transaction (one statement);
     * false when the head in the database was not {@code head} (nothing written).
     */
    static boolean writeBatch(
            Connection c, Head head, Head next, String node, String tokensDigest, List<LedgerEntry> entries)
            throws SQLException {
        int n = entries.size();
        byte[][] sha = new byte[n][];
        String[] jti = new String[n];
        String[] kid = new String[n];
        String[] iss = new String[n];
        String[] sub = new String[n];
        String[] aud = new String[n];
        Long[] iat = new Long[n];
        Long[] exp = new Long[n];
        for (int i = 0; i < n; i++) {
            LedgerEntry e = entries.get(i);
            sha[i] = e.tokenSha256();
            jti[i] = e.jti();
            kid[i] = e.kid();
            iss[i] = e.issuerId();
            sub[i] = e.sub();
            aud[i] = e.aud();
            iat[i] = e.iat();
            exp[i] = e.exp();
        }
        OffsetDateTime ts = OffsetDateTime.ofInstant(next.recordedAt(), ZoneOffset.UTC);
        try (PreparedStatement ps = c.prepareStatement(WRITE_SQL)) {
            int p = 1;
            ps.setLong(p++, next.seq());
            ps.setString(p++, next.hash());
            ps.setObject(p++, ts);
            ps.setLong(p++, head.seq());
            ps.setString(p++, head.hash());
            ps.setString(p++, node);
            ps.setInt(p++, n);
            ps.setString(p++, tokensDigest);
            ps.setString(p++, head.hash());
            List<Array> arrays = List.of(
                    c.createArrayOf("bytea", sha),
                    c.createArrayOf("text", jti),
                    c.createArrayOf("text", kid),
                    c.createArrayOf("text", iss),
                    c.createArrayOf("text", sub),
                    c.createArrayOf("text", aud),
                    c.createArrayOf("bigint", iat),
                    c.createArrayOf("bigint", exp));
            for (Array a : arrays) {
                ps.setArray(p++, a);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong("written") == 1;
            }
        }
    }

    // ---- daily partitions (DDL; static: the writer makes a missing day itself) ----

    static final String[] PARTITIONED = {"ledger_batch", "ledger_token"};
    private static final DateTimeFormatter SUFFIX = DateTimeFormatter.ofPattern("yyyyMMdd");

    /**
     * Creates the day's partitions of both tables unless they exist, in whatever transaction mode the caller set
     * (DDL: the writer runs it in autocommit).
     */
    static void createDayPartitions(Connection c, LocalDate day) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String t : PARTITIONED) {
                try {
                    s.execute("create table if not exists " + partitionName(t, day) + " partition of " + t
                            + " for values from ('" + day + " 00:00:00+00') to ('" + day.plusDays(1)
                            + " 00:00:00+00')");
                } catch (SQLException raced) {
                    // Another instance made it between our check and our create (PostgreSQL's IF NOT EXISTS is not
                    // atomic against a concurrent create): fine if it exists now.
                    if (!tableExists(c, partitionName(t, day))) {
                        throw raced;
                    }
                }
            }
        }
    }

    /** Drops the day's partitions of both tables (in the caller's transaction). */
    static void dropDayPartitions(Connection c, LocalDate day) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String t : PARTITIONED) {
                s.execute("drop table if exists " + partitionName(t, day));
            }
        }
    }

    /** The days that have partitions, oldest first. */
    static List<LocalDate> partitionDays(Connection c) throws SQLException {
        List<LocalDate> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select c.relname as partition_name from pg_inherits i"
                        + " join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent"
                        + " where p.relname = 'ledger_batch' order by c.relname");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                String n = rs.getString("partition_name");
                out.add(LocalDate.parse(n.substring(n.length() - 8), SUFFIX));
            }
        }
        return out;
    }

    static String partitionName(String table, LocalDate day) {
        return table + "_p" + SUFFIX.format(day);
    }

    private static boolean tableExists(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select to_regclass(?) is not null as present")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean("present");
            }
        }
    }

    // ---- the application's reads and upkeep ----

    /** The ledger rows of these hashes (hex), one index probe per hash and partition; the first row per hash. */
    public Map<String, IssuedToken> tokensByHash(List<String> hexHashes) {
        Map<String, IssuedToken> hits = new HashMap<>();
        if (hexHashes.isEmpty()) {
            return hits;
        }
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement("select encode(t.token_sha256, 'hex') as sha256, t.jti,"
                        + " t.kid, t.issuer_id, t.iat, t.exp, t.batch_seq from ledger_token t"
                        + " where t.token_sha256 = any (select decode(h, 'hex') from unnest(?::text[]) h)")) {
            Array arr = c.createArrayOf("text", hexHashes.toArray());
            ps.setArray(1, arr);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    IssuedToken t = issuedToken(rs);
                    hits.putIfAbsent(t.sha256(), t);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("the ledger could not be read", e);
        }
        return hits;
    }

    private static IssuedToken issuedToken(ResultSet rs) throws SQLException {
        return new IssuedToken(
                rs.getString("sha256"),
                rs.getString("jti"),
                rs.getString("kid"),
                rs.getString("issuer_id"),
                rs.getLong("iat"),
                rs.getLong("exp"),
                rs.getLong("batch_seq"));
    }

    /** Since when the ledger holds every token issued (earlier days were never recorded, or dropped by retention). */
    public Instant coveredFrom() {
        try (Connection c = ds.getConnection()) {
            return coveredFrom(c);
        } catch (SQLException e) {
            throw new IllegalStateException("the ledger could not be read", e);
        }
    }

    /** As {@link #coveredFrom()}, on the caller's connection (an export's snapshot). */
    static Instant coveredFrom(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select covered_from from ledger_head where id = 1");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getObject("covered_from", OffsetDateTime.class).toInstant();
        }
    }

    /** Makes these days' partitions unless {@code partitions} knows they exist. */
    void ensurePartitions(LedgerPartitions partitions, List<LocalDate> days) throws SQLException {
        try (Connection c = ds.getConnection()) {
            for (LocalDate day : days) {
                partitions.ensure(c, day);
            }
        }
    }

    /** The head, its row share-locked until the caller's transaction ends (a checkpoint signs it). */
    public Head sharedHead() throws SQLException {
        try (Connection c = ds.getConnection();
                PreparedStatement ps =
                        c.prepareStatement("select seq, hash, recorded_at from ledger_head where id = 1 for share");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            OffsetDateTime at = rs.getObject("recorded_at", OffsetDateTime.class);
            return new Head(rs.getLong("seq"), rs.getString("hash"), at == null ? null : at.toInstant());
        }
    }

    /** Stores a signed checkpoint, in the caller's transaction. */
    public void insertCheckpoint(LedgerMaintenance.LedgerCheckpoint cp, String requestedBy) throws SQLException {
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement("insert into ledger_checkpoint (seq, hash, signed_at, node,"
                        + " key_id, signature, requested_by) values (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, cp.seq());
            ps.setString(2, cp.hash());
            ps.setObject(3, OffsetDateTime.ofInstant(cp.time(), ZoneOffset.UTC));
            ps.setString(4, cp.node());
            ps.setString(5, cp.keyId());
            ps.setString(6, cp.signature());
            ps.setString(7, requestedBy);
            ps.executeUpdate();
        }
    }

    /**
     * Drops every day wholly before {@code firstKept} and moves the coverage start to it, in the caller's
     * transaction; returns the days dropped (none: nothing changed).
     */
    List<LocalDate> dropDaysBefore(LedgerPartitions partitions, LocalDate firstKept) throws SQLException {
        try (Connection c = ds.getConnection()) {
            // The tables in the order the writer's one statement takes them: it locks both parents when it starts
            // and then waits for the head row, and dropping a partition locks its parent exclusively; taking the
            // head first would deadlock with a writer between the two.
            try (PreparedStatement ps =
                    c.prepareStatement("lock table ledger_batch, ledger_token" + " in access exclusive mode")) {
                ps.execute();
            }
            try (PreparedStatement ps = c.prepareStatement("select 1 from ledger_head where id = 1 for update")) {
                ps.executeQuery().close();
            }
            List<LocalDate> dropped = partitions.dropBefore(c, firstKept);
            if (dropped.isEmpty()) {
                return dropped;
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "update ledger_head set covered_from =" + " greatest(covered_from, ?) where id = 1")) {
                ps.setObject(1, firstKept.atStartOfDay().atOffset(ZoneOffset.UTC));
                ps.executeUpdate();
            }
            return dropped;
        }
    }

    /** Whether the head is ahead of the newest checkpoint (a checkpoint is due). */
    public boolean headAheadOfCheckpoints() {
        try (Connection c = ds.getConnection();
                PreparedStatement ps =
                        c.prepareStatement("select (select seq from ledger_head where id = 1) as head_seq,"
                                + " (select coalesce(max(seq), 0) from ledger_checkpoint) as checkpointed_seq");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong("head_seq") > rs.getLong("checkpointed_seq");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the ledger head", e);
        }
    }

    /**
     * The time of the newest ledger checkpoint and the {@code recorded_at} of the oldest batch after it, for the
     * operations metrics; in the caller's transaction (through the EntityManager).
     */
    public CheckpointLag checkpointLag() {
        Tuple t = (Tuple) em.createNativeQuery(
                        "select (select max(signed_at) from ledger_checkpoint) as newest_checkpoint_at,"
                                + " (select min(recorded_at) from ledger_batch"
                                + " where seq > (select coalesce(max(seq), 0) from ledger_checkpoint))"
                                + " as oldest_unsigned_batch_at",
                        Tuple.class)
                .getSingleResult();
        return new CheckpointLag(instant(t.get("newest_checkpoint_at")), instant(t.get("oldest_unsigned_batch_at")));
    }

    private static Instant instant(Object o) {
        if (o == null) {
            return null;
        }
        if (o instanceof Timestamp t) {
            return t.toInstant();
        }
        if (o instanceof OffsetDateTime t) {
            return t.toInstant();
        }
        if (o instanceof Instant t) {
            return t;
        }
        throw new IllegalStateException("not a time: " + o.getClass());
    }

    // ---- the export's reads, in its REPEATABLE READ snapshot ----

    /** The tokens the window's batches hold (their {@code token_count}s summed): the export's size limit. */
    public long tokensInWindow(ExportSnapshot snapshot) throws SQLException {
        try (PreparedStatement ps = snapshot.windowed(
                        "select coalesce(sum(token_count), 0) as tokens from ledger_batch" + ExportSnapshot.WINDOW);
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong("tokens");
        }
    }

    /** The window's batches in seq order, each with its tokens in position order. */
    public List<LedgerExport.Batch> batchesInWindow(ExportSnapshot snapshot) throws SQLException {
        List<LedgerExport.Batch> batches = new ArrayList<>();
        try (PreparedStatement ps = snapshot.windowed("select seq, recorded_at, node, token_count, tokens_digest,"
                        + " prev_hash, hash from ledger_batch" + ExportSnapshot.WINDOW + " order by seq");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                batches.add(new LedgerExport.Batch(
                        rs.getLong("seq"),
                        rs.getObject("recorded_at", OffsetDateTime.class)
                                .toInstant()
                                .toString(),
                        rs.getString("node"),
                        rs.getInt("token_count"),
                        rs.getString("tokens_digest"),
                        rs.getString("prev_hash"),
                        rs.getString("hash"),
                        new ArrayList<>()));
            }
        }
        if (batches.isEmpty()) {
            return batches;
        }
        Map<Long, LedgerExport.Batch> bySeq = new HashMap<>();
        batches.forEach(x -> bySeq.put(x.seq(), x));
        try (PreparedStatement ps = snapshot.windowed("select batch_seq, position,"
                + " encode(token_sha256, 'hex') as sha256, jti, kid, issuer_id, sub, aud, iat, exp from ledger_token"
                + ExportSnapshot.WINDOW + " order by batch_seq, position")) {
            ps.setFetchSize(5000);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    LedgerExport.Batch x = bySeq.get(rs.getLong("batch_seq"));
                    if (x != null) {
                        x.tokens()
                                .add(new LedgerExport.Token(
                                        rs.getInt("position"),
                                        rs.getString("sha256"),
                                        rs.getString("jti"),
                                        rs.getString("kid"),
                                        rs.getString("issuer_id"),
                                        rs.getString("sub"),
                                        rs.getString("aud"),
                                        rs.getLong("iat"),
                                        rs.getLong("exp")));
                    }
                }
            }
        }
        return batches;
    }

    /** The ledger checkpoints signing seqs {@code firstSeq} to {@code lastSeq}, in seq order. */
    public List<ExportSnapshot.Checkpoint> checkpoints(ExportSnapshot snapshot, long firstSeq, long lastSeq)
            throws SQLException {
        List<ExportSnapshot.Checkpoint> checkpoints = new ArrayList<>();
        try (PreparedStatement ps = snapshot.connection()
                .prepareStatement("select seq, hash, signed_at, node, key_id, signature"
                        + " from ledger_checkpoint where seq between ? and ? order by seq, id")) {
            ps.setLong(1, firstSeq);
            ps.setLong(2, lastSeq);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    checkpoints.add(new ExportSnapshot.Checkpoint(
                            rs.getLong("seq"),
                            rs.getString("hash"),
                            rs.getObject("signed_at", OffsetDateTime.class)
                                    .toInstant()
                                    .toString(),
                            rs.getString("node"),
                            rs.getString("key_id"),
                            rs.getString("signature")));
                }
            }
        }
        return checkpoints;
    }

    /** {@link #coveredFrom()} in the export's snapshot. */
    public Instant coveredFrom(ExportSnapshot snapshot) throws SQLException {
        return coveredFrom(snapshot.connection());
    }
}
