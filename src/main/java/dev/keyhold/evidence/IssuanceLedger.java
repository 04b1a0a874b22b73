package dev.keyhold.evidence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;

/**
 * The issuance ledger's writer: plain Java (no CDI), so a crash test can run exactly this code in a child JVM.
 *
 * <p>Signing threads {@link #append} entries to a queue and, unless the issuer is "ledger best effort", wait in
 * {@link #record} until the batch holding theirs has committed. One writer thread takes what is queued, lingers up to
 * {@code linger} for more (group commit), and writes the batch in one transaction: it locks the single
 * {@code ledger_head} row (so batches from several instances form one chain), inserts the batch row and its tokens
 * (one multi-row insert per thousand tokens), moves the head and commits. Only then are the waiters released.
 * A failed write is retried with the same entries until {@code writeTimeout}; then its waiters fail (their tokens
 * were never handed out) and best-effort entries are lost and counted.
 */
public final class IssuanceLedger implements AutoCloseable {

    /** Opens a database connection (a pool's or a plain driver's). */
    @FunctionalInterface
    public interface Connections {
        Connection open() throws SQLException;
    }

    public record Settings(Duration linger, int maxBatch, int maxPending, Duration writeTimeout, String node) {
    }

    /** The ledger could not make an entry durable in time (or is full, or closed). */
    public static final class LedgerUnavailableException extends RuntimeException {
        public LedgerUnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private record Pending(LedgerEntry entry, CompletableFuture<Void> durable) {
    }

    private static final int ROWS_PER_INSERT = 1000;
    private static final int COLUMNS = 11;

    private final Connections connections;
    private final Clock clock;
    private final Settings settings;
    private final LinkedBlockingQueue<Pending> queue;
    private final LedgerPartitions partitions;
    private final Thread writer;
    private volatile boolean closing;

    private final LongAdder batches = new LongAdder();
    private final LongAdder tokens = new LongAdder();
    private final LongAdder lost = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private volatile String lastError;

    IssuanceLedger(Connections connections, Clock clock, Settings settings, LedgerPartitions partitions) {
        this.connections = connections;
        this.clock = clock;
        this.settings = settings;
        this.partitions = partitions;
        this.queue = new LinkedBlockingQueue<>(settings.maxPending());
        this.writer = new Thread(this::run, "keyhold-ledger-writer");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    public static IssuanceLedger start(Connections connections, Clock clock, Settings settings) {
        return new IssuanceLedger(connections, clock, settings, new LedgerPartitions());
    }

    /** Queues an entry; the future completes when its batch has committed (or fails when it cannot). */
    public CompletableFuture<Void> append(LedgerEntry entry) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        if (closing) {
            f.completeExceptionally(new LedgerUnavailableException("the ledger is closing", null));
        } else if (!queue.offer(new Pending(entry, f))) {
            f.completeExceptionally(new LedgerUnavailableException("the ledger queue is full ("
                    + settings.maxPending() + " entries waiting for the database)", null));
        }
        return f;
    }

    /**
     * Records an entry. Strict (the default): returns once the entry is durable, else throws — the caller must not
     * hand the token out. Best effort: returns at once (a failure is counted as lost).
     */
    public void record(LedgerEntry entry, boolean bestEffort) {
        CompletableFuture<Void> f = append(entry);
        if (bestEffort) {
            f.whenComplete((ok, e) -> {
                if (e != null) {
                    lost.increment();
                }
            });
            return;
        }
        try {
            f.get(settings.writeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof LedgerUnavailableException u ? u
                    : new LedgerUnavailableException("the ledger could not record the token", e.getCause());
        } catch (TimeoutException e) {
            throw new LedgerUnavailableException("the ledger did not record the token within "
                    + settings.writeTimeout(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LedgerUnavailableException("interrupted while waiting for the ledger", e);
        }
    }

    public int pending() {
        return queue.size();
    }

    public long batchesWritten() {
        return batches.sum();
    }

    public long tokensWritten() {
        return tokens.sum();
    }

    public long lost() {
        return lost.sum();
    }

    public long failures() {
        return failures.sum();
    }

    public String lastError() {
        return lastError;
    }

    LedgerPartitions partitions() {
        return partitions;
    }

    /** Stops taking entries, writes what is queued (up to writeTimeout), stops the writer. */
    @Override
    public void close() {
        closing = true;
        writer.interrupt();
        try {
            writer.join(settings.writeTimeout().toMillis() + 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        while (true) {
            List<Pending> batch = new ArrayList<>();
            try {
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (closing) {
                        return;
                    }
                    continue;
                }
                batch.add(first);
                collect(batch);
            } catch (InterruptedException e) {
                // close(): write what is left, then stop
                queue.drainTo(batch, settings.maxBatch() - batch.size());
                if (batch.isEmpty() && queue.isEmpty()) {
                    return;
                }
            }
            if (!batch.isEmpty()) {
                writeWithRetries(batch);
            }
        }
    }

    /** Group commit: what is queued now, then what arrives within the linger, up to maxBatch. */
    private void collect(List<Pending> batch) throws InterruptedException {
        queue.drainTo(batch, settings.maxBatch() - batch.size());
        long deadline = System.nanoTime() + settings.linger().toNanos();
        while (batch.size() < settings.maxBatch() && !closing) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            Pending p = queue.poll(left, TimeUnit.NANOSECONDS);
            if (p == null) {
                break;
            }
            batch.add(p);
            queue.drainTo(batch, settings.maxBatch() - batch.size());
        }
    }

    private void writeWithRetries(List<Pending> batch) {
        long giveUp = System.nanoTime() + settings.writeTimeout().toNanos();
        long backoffMs = 10;
        while (true) {
            try {
                write(batch);
                batches.increment();
                tokens.add(batch.size());
                batch.forEach(p -> p.durable().complete(null));
                return;
            } catch (SQLException | RuntimeException e) {
                failures.increment();
                lastError = e.getMessage();
                partitions.forget();
                if (System.nanoTime() + backoffMs * 1_000_000 > giveUp) {
                    LedgerUnavailableException u = new LedgerUnavailableException("the ledger batch could not be"
                            + " written: " + e.getMessage(), e);
                    batch.forEach(p -> p.durable().completeExceptionally(u));
                    return;
                }
                try {
                    Thread.sleep(backoffMs);
                } catch (InterruptedException ie) {
                    // closing: keep trying until the timeout, the entries are still owed to the ledger
                    closing = true;
                }
                backoffMs = Math.min(backoffMs * 2, 500);
            }
        }
    }

    private void write(List<Pending> batch) throws SQLException {
        Instant at = clock.instant().truncatedTo(ChronoUnit.MICROS);
        try (Connection c = connections.open()) {
            // The batch's day must have its partition before the transaction (DDL commits): the head's time counts
            // when it is later than our clock (another instance's clock runs ahead).
            try (PreparedStatement ps = c.prepareStatement("select recorded_at from ledger_head where id = 1");
                 ResultSet rs = ps.executeQuery()) {
                OffsetDateTime headAt = rs.next() ? rs.getObject(1, OffsetDateTime.class) : null;
                partitions.ensure(c, LedgerPartitions.dayOf(headAt != null && headAt.toInstant().isAfter(at)
                        ? headAt.toInstant() : at));
            }
            c.setAutoCommit(false);
            try {
                long seq;
                String prev;
                try (PreparedStatement ps = c.prepareStatement(
                        "select seq, hash, recorded_at from ledger_head where id = 1 for update");
                     ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new SQLException("ledger_head is missing (migration V9 not applied?)");
                    }
                    seq = rs.getLong(1) + 1;
                    prev = rs.getString(2);
                    OffsetDateTime headAt = rs.getObject(3, OffsetDateTime.class);
                    // Time never runs backwards along the chain (an instance whose clock lags uses the head's time).
                    if (headAt != null && headAt.toInstant().isAfter(at)) {
                        at = headAt.toInstant();
                    }
                }
                List<String> lines = new ArrayList<>(batch.size());
                for (int i = 0; i < batch.size(); i++) {
                    LedgerEntry e = batch.get(i).entry();
                    lines.add(LedgerHash.line(i, e.tokenSha256Hex(), e.jti(), e.kid(), e.issuerId(), e.sub(), e.aud(),
                            e.iat(), e.exp()));
                }
                String digest = LedgerHash.tokensDigest(lines);
                String hash = LedgerHash.batchHash(seq, at, settings.node(), batch.size(), digest, prev);
                OffsetDateTime ts = OffsetDateTime.ofInstant(at, ZoneOffset.UTC);
                try (PreparedStatement ps = c.prepareStatement("insert into ledger_batch (seq, recorded_at, node,"
                        + " token_count, tokens_digest, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?)")) {
                    ps.setLong(1, seq);
                    ps.setObject(2, ts);
                    ps.setString(3, settings.node());
                    ps.setInt(4, batch.size());
                    ps.setString(5, digest);
                    ps.setString(6, prev);
                    ps.setString(7, hash);
                    ps.executeUpdate();
                }
                for (int from = 0; from < batch.size(); from += ROWS_PER_INSERT) {
                    insertTokens(c, batch, from, Math.min(batch.size(), from + ROWS_PER_INSERT), seq, ts);
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "update ledger_head set seq = ?, hash = ?, recorded_at = ? where id = 1")) {
                    ps.setLong(1, seq);
                    ps.setString(2, hash);
                    ps.setObject(3, ts);
                    ps.executeUpdate();
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is gone; PostgreSQL aborts the transaction by itself
                }
                throw e;
            }
        }
    }

    private static void insertTokens(Connection c, List<Pending> batch, int from, int to, long seq,
                                     OffsetDateTime ts) throws SQLException {
        StringBuilder sql = new StringBuilder("insert into ledger_token (recorded_at, batch_seq, position,"
                + " token_sha256, jti, kid, issuer_id, sub, aud, iat, exp) values ");
        for (int i = from; i < to; i++) {
            sql.append(i == from ? "" : ",").append("(?,?,?,?,?,?,?,?,?,?,?)");
        }
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int p = 1;
            for (int i = from; i < to; i++) {
                LedgerEntry e = batch.get(i).entry();
                ps.setObject(p++, ts);
                ps.setLong(p++, seq);
                ps.setInt(p++, i);
                ps.setBytes(p++, e.tokenSha256());
                ps.setString(p++, e.jti());
                ps.setString(p++, e.kid());
                ps.setString(p++, e.issuerId());
                ps.setString(p++, e.sub());
                ps.setString(p++, e.aud());
                ps.setLong(p++, e.iat());
                ps.setLong(p++, e.exp());
            }
            assert p == (to - from) * COLUMNS + 1;
            ps.executeUpdate();
        }
    }
}
