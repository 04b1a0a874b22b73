package dev.keyhold.events;

import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Follows the outbox for all open event streams of this instance: one read every
 * {@code keyhold.events.poll-interval}, whatever the number of streams, and each batch handed to every stream that
 * is live (has read everything up to where the follower is). A stream that is behind (resuming from an older
 * {@code Last-Event-ID}, or a slow client whose write queue filled) reads the outbox on its own until it has caught
 * up, then joins. The follower runs only while some stream is open.
 *
 * <p>The outbox is visible in commit order (ChangeRecorder), so "seq > tail" never skips an event that committed
 * late, and each subscriber receives the batches in order.
 */
@ApplicationScoped
public class EventFollower {

    private static final Logger LOG = Logger.getLogger(EventFollower.class);

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

    private final Object lock = new Object();
    // Guarded by lock.
    private final Set<Subscriber> open = new LinkedHashSet<>();
    private final Set<Subscriber> live = new LinkedHashSet<>();
    private long tail = -1;
    private long generation;
    private long timer = -1;
    private boolean starting;
    private boolean reading;

    /**
     * A stream opened: the follower runs while any stream is open. It starts at the outbox head as it is when it
     * starts (never at a client's cursor, which may lie ahead of the head).
     */
    public void opened(Subscriber s) {
        synchronized (lock) {
            open.add(s);
            if (tail >= 0 || starting) {
                return;
            }
            starting = true;
            long gen = ++generation;
            vertx.executeBlocking(reader::head, false).onComplete(ar -> {
                synchronized (lock) {
                    starting = false;
                    if (gen != generation) {
                        return;
                    }
                    if (ar.failed()) {
                        // Streams read on their own meanwhile; the next stream to open tries again.
                        LOG.debugf("event follower could not read the outbox head: %s", ar.cause().getMessage());
                        return;
                    }
                    tail = ar.result();
                    timer = vertx.setPeriodic(Math.max(10, settings.pollInterval().toMillis()), id -> tick(gen));
                }
            });
        }
    }

    public void closed(Subscriber s) {
        synchronized (lock) {
            open.remove(s);
            live.remove(s);
            if (open.isEmpty()) {
                vertx.cancelTimer(timer);
                timer = -1;
                tail = -1;
                generation++;
            }
        }
    }

    /**
     * Makes {@code s} live when {@code cursor} is at or past what the follower has read; false when the follower has
     * not started yet or the subscriber must catch up on its own first.
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

    private void tick(long gen) {
        long from;
        synchronized (lock) {
            if (gen != generation || reading) {
                return;
            }
            reading = true;
            from = tail;
        }
        vertx.executeBlocking(() -> reader.after(from, EventStream.BATCH), false).onComplete(ar -> {
            List<Subscriber> targets;
            synchronized (lock) {
                reading = false;
                if (gen != generation) {
                    return;
                }
                if (ar.failed()) {
                    // Database briefly unavailable: the streams stay open, the next tick tries again.
                    LOG.debugf("event follower read failed: %s", ar.cause().getMessage());
                    return;
                }
                if (ar.result().isEmpty()) {
                    return;
                }
                tail = ar.result().get(ar.result().size() - 1).seq();
                targets = new ArrayList<>(live);
            }
            for (Subscriber s : targets) {
                s.deliver(ar.result());
            }
            if (ar.result().size() == EventStream.BATCH) {
                tick(gen); // more waiting: catch up without waiting for the next tick
            }
        });
    }
}
