package dev.keyhold.events;

import dev.keyhold.audit.SqlTime;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
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
    EntityManager em;

    private final AtomicLong reads = new AtomicLong();

    /** Reads of events by {@link #after} since start: one per poll interval for all streams together, plus catch-ups. */
    public long reads() {
        return reads.get();
    }

    @Transactional
    public List<OutboxEvent> after(long seq, int limit) {
        reads.incrementAndGet();
        @SuppressWarnings("unchecked")
        List<Object[]> rows = em.createNativeQuery("select seq, type, source, issuer_id, subject, event_time, data"
                        + " from outbox_event where seq > ?1 order by seq limit ?2")
                .setParameter(1, seq)
                .setParameter(2, limit)
                .getResultList();
        return rows.stream().map(OutboxReader::event).toList();
    }

    @Transactional
    public long head() {
        return ((Number) em.createNativeQuery("select coalesce(max(seq), 0) from outbox_event")
                        .getSingleResult())
                .longValue();
    }

    private static OutboxEvent event(Object[] r) {
        return new OutboxEvent(
                ((Number) r[0]).longValue(),
                (String) r[1],
                (String) r[2],
                (String) r[3],
                (String) r[4],
                SqlTime.instant(r[5]),
                (String) r[6]);
    }
}
