package dev.keyhold.evidence;

import dev.keyhold.evidence.LedgerStore.Head;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The issuance ledger's writer: plain Java (no CDI), so a crash test can run exactly this code in a child JVM.
 *
 * <p>Signing threads {@link #append} entries to a queue and, unless the issuer is "ledger best effort", are answered
 * ({@link #recordAsync}) only once the batch holding theirs has committed. One writer thread does group commit:
 * <ul>
 *   <li>it takes everything queued as soon as the previous commit returns (entries that arrived during a commit form
 *       the next batch);
 *   <li>it lingers (at most {@code linger}) only while signatures announced with {@link #expect} are under way, and
 *       only for those: a lone request is written at once, a burst still goes out as one batch;
 *   <li>it writes the batch row, its tokens and the new chain head in ONE statement of a fixed shape (the tokens as
 *       array parameters, {@code unnest}ed; the statement is {@link LedgerStore}'s) and commits durably
 *       ({@code synchronous_commit = on} for that transaction whatever the server's default): two round trips, the
 *       statement (with its BEGIN) and the COMMIT;
 *   <li>it keeps the chain head in memory. The head update is a compare-and-set on the head it knows; when another
 *       instance moved the head, nothing is written, and the writer re-reads the head and computes the batch again.
 * </ul>
 * A failed write is retried with the same entries until {@code writeTimeout} (after a failure whose outcome is unknown
 * — a connection lost during the commit — the re-read finds the batch if it did commit, so it is not written twice);
 * then its waiters fail (their tokens were never handed out) and best-effort entries are lost and counted.
 */
public final class IssuanceLedger implements AutoCloseable {

    /** Opens a database connection (a pool's or a plain driver's). */
    @FunctionalInterface
    public interface Connections {
        Connection open() throws SQLException;
    }

    public record Settings(Duration linger, int maxBatch, int maxPending, Duration writeTimeout, String node) {}

    /** The ledger could not make an entry durable in time (or is full, or closed). */
    public static final class LedgerUnavailableException extends RuntimeException {
        public LedgerUnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * A signature under way whose entry will follow: while any is open, the writer waits (up to {@code linger}) for
     * its entry instead of committing a batch without it. Exactly one of {@link #record} or {@link #close} ends it.
     */
    public final class Expected implements AutoCloseable {
        private boolean open = true;

        private Expected() {}

        /** The entry of this signature: as {@link IssuanceLedger#recordAsync}. */
        public CompletableFuture<Void> record(LedgerEntry entry, boolean bestEffort) {
            boolean wasOpen = open;
            open = false;
            return handOut(enqueue(entry, wasOpen), bestEffort);
        }

        /** The signature failed: no entry follows. */
        @Override
        public void close() {
            if (open) {
                open = false;
                settle();
            }
        }
    }

    private record Pending(LedgerEntry entry, CompletableFuture<Void> durable) {}

    private final Connections connections;
    private final Clock clock;
    private final Settings settings;
    private final LedgerPartitions partitions;
    private final Thread writer;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    /** Signatures under way (guarded by lock). */
    private int expected;
    /** Expected signatures that have settled, by entry or failure (guarded by lock). */
    private long settled;

    private volatile boolean closing;
    private volatile int pending;

    /** The chain head as this instance last wrote or read it (writer thread only). */
    private Head head;

    private final LongAdder batches = new LongAdder();
    private final LongAdder tokens = new LongAdder();
    private final LongAdder lost = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder headRereads = new LongAdder();
    private volatile String lastError;

    IssuanceLedger(Connections connections, Clock clock, Settings settings, LedgerPartitions partitions) {
        this.connections = connections;
        this.clock = clock;
        this.settings = settings;
        this.partitions = partitions;
        this.writer = new Thread(this::run, "keyhold-ledger-writer");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    public static IssuanceLedger start(Connections connections, Clock clock, Settings settings) {
        return new IssuanceLedger(connections, clock, settings, new LedgerPartitions());
    }

    /** Announces a signature whose entry will follow (group commit waits for it, up to the linger). */
    public Expected expect() {
        lock.lock();
        try {
            expected++;
        } finally {
            lock.unlock();
        }
        return new Expected();
    }

    /** Queues an entry; the future completes when its batch has committed (or fails when it cannot). */
    public CompletableFuture<Void> append(LedgerEntry entry) {
        return enqueue(entry, false);
    }

    private CompletableFuture<Void> enqueue(LedgerEntry entry, boolean wasExpected) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        lock.lock();
        try {
            if (wasExpected) {
                expected--;
                settled++;
            }
            if (closing) {
                f.completeExceptionally(new LedgerUnavailableException("the ledger is closing", null));
            } else if (queue.size() >= settings.maxPending()) {
                f.completeExceptionally(new LedgerUnavailableException(
                        "the ledger queue is full (" + settings.maxPending() + " entries waiting for the database)",
                        null));
            } else {
                queue.add(new Pending(entry, f));
                pending = queue.size();
            }
            changed.signal();
        } finally {
            lock.unlock();
        }
        return f;
    }

    private void settle() {
        lock.lock();
        try {
            expected--;
            settled++;
            changed.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Records an entry. Strict: the future completes once the entry is durable, or fails with
     * {@link LedgerUnavailableException} (also after {@code writeTimeout}) — the caller must not hand the token out.
     * Best effort: completes at once (a failure is counted as lost).
     */
    public CompletableFuture<Void> recordAsync(LedgerEntry entry, boolean bestEffort) {
        return handOut(append(entry), bestEffort);
    }

    private CompletableFuture<Void> handOut(CompletableFuture<Void> durable, boolean bestEffort) {
        if (bestEffort) {
            durable.whenComplete((ok, e) -> {
                if (e != null) {
                    lost.increment();
                }
            });
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> out = new CompletableFuture<>();
        durable.orTimeout(settings.writeTimeout().toNanos(), TimeUnit.NANOSECONDS)
                .whenComplete((ok, e) -> {
                    if (e == null) {
                        out.complete(null);
                    } else {
                        out.completeExceptionally(unavailable(e));
                    }
                });
        return out;
    }

    private LedgerUnavailableException unavailable(Throwable e) {
        Throwable c = e instanceof ExecutionException || e instanceof java.util.concurrent.CompletionException
                ? e.getCause()
                : e;
        if (c instanceof LedgerUnavailableException u) {
            return u;
        }
        if (c instanceof TimeoutException) {
            return new LedgerUnavailableException(
                    "the ledger did not record the token within " + settings.writeTimeout(), c);
        }
        return new LedgerUnavailableException("the ledger could not record the token", c);
    }

    /**
     * Records an entry, blocking. Strict (the default): returns once the entry is durable, else throws — the caller
     * must not hand the token out. Best effort: returns at once (a failure is counted as lost).
     */
    public void record(LedgerEntry entry, boolean bestEffort) {
        try {
            recordAsync(entry, bestEffort).get();
        } catch (ExecutionException e) {
            throw unavailable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LedgerUnavailableException("interrupted while waiting for the ledger", e);
        }
    }

    public int pending() {
        return pending;
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

    /** How often another instance had moved the chain head, so this one re-read it. */
    public long headRereads() {
        return headRereads.sum();
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
        lock.lock();
        try {
            closing = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            writer.join(settings.writeTimeout().toMillis() + 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        while (true) {
            List<Pending> batch;
            try {
                batch = take();
            } catch (InterruptedException e) {
                closing = true;
                continue;
            }
            if (batch == null) {
                return;
            }
            writeWithRetries(batch);
        }
    }

    /**
     * The next batch: what is queued (waiting for a first entry if none), then, while signatures announced before now
     * are under way, their entries — up to the linger and maxBatch. Null once closing with nothing queued.
     */
    private List<Pending> take() throws InterruptedException {
        List<Pending> batch = new ArrayList<>();
        lock.lock();
        try {
            while (queue.isEmpty()) {
                if (closing) {
                    return null;
                }
                changed.await();
            }
            drain(batch);
            if (expected > 0 && !closing && batch.size() < settings.maxBatch()) {
                long target = settled + expected;
                long left = settings.linger().toNanos();
                while (settled < target && batch.size() < settings.maxBatch() && left > 0 && !closing) {
                    left = changed.awaitNanos(left);
                    drain(batch);
                }
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    private void drain(List<Pending> batch) {
        while (batch.size() < settings.maxBatch()) {
            Pending p = queue.poll();
            if (p == null) {
                break;
            }
            batch.add(p);
        }
        pending = queue.size();
    }

    private void writeWithRetries(List<Pending> batch) {
        long giveUp = System.nanoTime() + settings.writeTimeout().toNanos();
        long backoffMs = 10;
        String digest = digest(batch);
        Head attempted = null;
        while (true) {
            try {
                if (head == null || attempted != null) {
                    Head known = readHead(attempted);
                    if (known == null) {
                        // the failed attempt did commit: the head is ours
                        head = attempted;
                        done(batch);
                        return;
                    }
                    head = known;
                    attempted = null;
                }
                Head next = next(batch.size(), digest);
                attempted = next;
                if (write(batch, digest, next)) {
                    head = next;
                    done(batch);
                    return;
                }
                // another instance moved the head: re-read it and chain onto it
                headRereads.increment();
                head = null;
                attempted = null;
            } catch (SQLException | RuntimeException e) {
                failures.increment();
                lastError = e.getMessage();
                partitions.forget();
                if (attempted == null) {
                    head = null;
                }
                if (System.nanoTime() + backoffMs * 1_000_000 > giveUp) {
                    head = null;
                    LedgerUnavailableException u = new LedgerUnavailableException(
                            "the ledger batch could not be" + " written: " + e.getMessage(), e);
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

    private void done(List<Pending> batch) {
        batches.increment();
        tokens.add(batch.size());
        batch.forEach(p -> p.durable().complete(null));
    }

    /** The batch's place in the chain: after the known head, never earlier in time than it. */
    private Head next(int count, String digest) {
        Instant at = clock.instant().truncatedTo(ChronoUnit.MICROS);
        // Time never runs backwards along the chain (an instance whose clock lags uses the head's time).
        if (head.recordedAt() != null && head.recordedAt().isAfter(at)) {
            at = head.recordedAt();
        }
        long seq = head.seq() + 1;
        return new Head(seq, LedgerHash.batchHash(seq, at, settings.node(), count, digest, head.hash()), at);
    }

    private static String digest(List<Pending> batch) {
        List<String> lines = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            LedgerEntry e = batch.get(i).entry();
            lines.add(LedgerHash.line(
                    i, e.tokenSha256Hex(), e.jti(), e.kid(), e.issuerId(), e.sub(), e.aud(), e.iat(), e.exp()));
        }
        return LedgerHash.tokensDigest(lines);
    }

    /** The head in the database; null when {@code attempted} is already in the ledger (its commit went through). */
    private Head readHead(Head attempted) throws SQLException {
        try (Connection c = connections.open()) {
            return LedgerStore.readHead(
                            c, attempted == null ? -1 : attempted.seq(), attempted == null ? "" : attempted.hash())
                    .orElse(null);
        }
    }

    /** One statement and its commit; false when the head was not {@link #head} (nothing written). */
    private boolean write(List<Pending> batch, String digest, Head next) throws SQLException {
        List<LedgerEntry> entries = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            entries.add(p.entry());
        }
        try (Connection c = connections.open()) {
            // The batch's day must have its partition before the statement (DDL commits); known days cost nothing.
            partitions.ensure(c, LedgerPartitions.dayOf(next.recordedAt()));
            // An explicit transaction (BEGIN goes out with the statement): a writer that dies before its COMMIT
            // leaves nothing behind, so no batch lands that its process did not see committed.
            c.setAutoCommit(false);
            try {
                boolean written = LedgerStore.writeBatch(c, head, next, settings.node(), digest, entries);
                c.commit();
                return written;
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
}
