package dev.keyhold.events;

import dev.keyhold.audit.RecordedChange;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * This instance's one reader of the outbox: every {@code keyhold.events.poll-interval} it reads the events committed
 * since the last read (one query, however many caches and streams there are) and hands them to
 * <ul>
 *   <li>every {@link IssuerChangeListener} (the JWKS and signing caches), once per event, for the issuer the event
 *   concerns only. A change committed on this instance is applied at commit already ({@link #onCommitted}) and
 *   skipped when the read meets it; the read is what brings changes made by other instances on the same database.
 *   Audit-only records (a decision, a denial: a 403 included) write no outbox event and invalidate nothing;</li>
 *   <li>every live SSE stream ({@link Subscriber}: one that has read everything up to where the follower is). A
 *   stream that is behind (resuming from an older {@code Last-Event-ID}, or a slow client whose write queue filled)
 *   reads the outbox on its own until it has caught up, then joins ({@link #join}).</li>
 * </ul>
 * The outbox is visible in commit order (ChangeRecorder), so "seq > tail" never skips an event that committed late,
 * and everyone receives the events in order.
 */
@ApplicationScoped
public class OutboxFollower {

    private static final Logger LOG = Logger.getLogger(OutboxFollower.class);

    /** A live stream. {@link #deliver} is called on the follower's thread; the subscriber moves to its own context. */
    public interface Subscriber {
        void deliver(List<OutboxEvent> events);
    }

    @Inject
    OutboxReader reader;

    @Inject
    EventsSettings settings;

    @Inject
    Vertx vertx;

    @Inject
    @Any
    Instance<IssuerChangeListener> listeners;

    private final AtomicBoolean polling = new AtomicBoolean();
    private long timer = -1;
    /** Serialises reads: the scheduled one and any direct call (tests, a catch-up) never interleave. */
    private final Object reading = new Object();

    private final Object lock = new Object();
    // Guarded by lock.
    private final Set<Subscriber> open = new LinkedHashSet<>();
    private final Set<Subscriber> live = new LinkedHashSet<>();
    /** The last sequence read; -1 until the outbox head could be read. */
    private long tail = -1;
    /** Outbox events of this instance already applied at commit, not yet met by a read. */
    private final Set<Long> appliedAtCommit = ConcurrentHashMap.newKeySet();

    void onStart(@Observes StartupEvent e) {
        try {
            long head = reader.head();
            synchronized (lock) {
                tail = head;
            }
        } catch (RuntimeException ex) {
            LOG.warn(
                    "outbox not readable at start; caches load on demand and the follower starts at its first read",
                    ex);
        }
        // A Vert.x timer, not @Scheduled: Quarkus's simple scheduler checks its triggers once a second, which would
        // stretch a sub-second poll interval to a second.
        timer = vertx.setPeriodic(Math.max(10, settings.pollInterval().toMillis()), id -> poll());
    }

    void onStop(@Observes ShutdownEvent e) {
        vertx.cancelTimer(timer);
    }

    /** One read on a worker thread, unless the previous one is still running (then this interval is skipped). */
    void poll() {
        if (!polling.compareAndSet(false, true)) {
            return;
        }
        vertx.executeBlocking(
                        () -> {
                            catchUp();
                            return null;
                        },
                        false)
                .onComplete(ar -> {
                    polling.set(false);
                    if (ar.failed()) {
                        // Keep serving what is cached and keep the streams open; a database outage must not take the
                        // JWKS
                        // down (SPEC invariant 7). The next interval tries again.
                        LOG.debugf("outbox read failed: %s", ar.cause().getMessage());
                    }
                });
    }

    /** Reads everything committed since the last read and hands it out; returns when caught up. */
    public void catchUp() {
        synchronized (reading) {
            long from;
            synchronized (lock) {
                from = tail;
            }
            if (from < 0) {
                // Never read (the database was down at start): whatever the caches hold may be stale.
                long head = reader.head();
                synchronized (lock) {
                    tail = head;
                }
                listeners.forEach(IssuerChangeListener::invalidateAll);
                return;
            }
            List<OutboxEvent> batch;
            do {
                batch = reader.after(from, EventStream.BATCH);
                if (batch.isEmpty()) {
                    break;
                }
                for (OutboxEvent e : batch) {
                    if (!appliedAtCommit.remove(e.seq()) && e.issuerId() != null) {
                        listeners.forEach(l -> l.invalidate(e.issuerId()));
                    }
                }
                List<Subscriber> targets;
                synchronized (lock) {
                    // The tail moves and the live set is taken together: a stream joins either before (and gets this
                    // batch) or after (and its cursor must then be at or past the new tail).
                    tail = batch.get(batch.size() - 1).seq();
                    from = tail;
                    targets = new ArrayList<>(live);
                }
                for (Subscriber s : targets) {
                    s.deliver(batch);
                }
            } while (batch.size() == EventStream.BATCH);
            long seen = from;
            appliedAtCommit.removeIf(s -> s <= seen);
        }
    }

    void onCommitted(@Observes(during = TransactionPhase.AFTER_SUCCESS) RecordedChange change) {
        if (!change.announced() || change.issuerId() == null) {
            return; // audit-only, or not about an issuer
        }
        synchronized (lock) {
            if (tail < 0 || change.outboxSeq() <= tail) {
                return; // the read has applied it already (or will reload everything)
            }
            appliedAtCommit.add(change.outboxSeq());
        }
        listeners.forEach(l -> l.invalidate(change.issuerId()));
    }

    /** A stream opened; it takes events from the follower once it has {@link #join joined}. */
    public void opened(Subscriber s) {
        synchronized (lock) {
            open.add(s);
        }
    }

    public void closed(Subscriber s) {
        synchronized (lock) {
            open.remove(s);
            live.remove(s);
        }
    }

    /**
     * Makes {@code s} live when {@code cursor} is at or past what the follower has read; false when the follower has
     * not read the outbox yet or the subscriber must catch up on its own first.
     */
    public boolean join(Subscriber s, long cursor) {
        synchronized (lock) {
            if (tail < 0 || cursor < tail || !open.contains(s)) {
                return false;
            }
            live.add(s);
            return true;
        }
    }

    /** A live subscriber that could not keep up goes back to catching up on its own. */
    public void fellBehind(Subscriber s) {
        synchronized (lock) {
            live.remove(s);
        }
    }

    /** Live subscribers now (for tests). */
    public int subscribers() {
        synchronized (lock) {
            return live.size();
        }
    }
}
