package dev.keyhold.events;

import dev.keyhold.audit.OutboxStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads the outbox in sequence order. Appends are serialised (ChangeRecorder), so sequence order is commit
 * order and "everything after seq N" never skips an event that commits late.
 */
@ApplicationScoped
public class OutboxReader {

    @Inject
    OutboxStore store;

    private final AtomicLong reads = new AtomicLong();

    /** Reads of events by {@link #after} since start: one per poll interval for all streams together, plus catch-ups. */
    public long reads() {
        return reads.get();
    }

    @Transactional
    public List<OutboxEvent> after(long seq, int limit) {
        reads.incrementAndGet();
        return store.after(seq, limit).stream().map(OutboxReader::event).toList();
    }

    @Transactional
    public long head() {
        return store.head();
    }

    /** A stored outbox row as the event it carries. */
    public static OutboxEvent event(OutboxStore.EventRow r) {
        return new OutboxEvent(r.seq(), r.type(), r.source(), r.issuerId(), r.subject(), r.time(), r.dataJson());
    }
}
