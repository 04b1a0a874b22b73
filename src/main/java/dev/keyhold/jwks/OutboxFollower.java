package dev.keyhold.jwks;

import dev.keyhold.audit.RecordedChange;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps every {@link IssuerChangeListener} in step with issuer changes, driven by outbox events only and for the
 * issuer each event concerns: at once after a change commits on this instance, and by following the outbox for
 * changes made by other instances on the same database. Each event invalidates once: an event applied at commit
 * is skipped when the poll reads it. Audit-only records (decisions, denials: a 403 included) write no outbox event
 * and invalidate nothing. The outbox is visible in commit order (see ChangeRecorder), so "seq > last seen" misses
 * nothing.
 */
@ApplicationScoped
public class OutboxFollower {

    private static final Logger LOG = Logger.getLogger(OutboxFollower.class);

    @Inject
    EntityManager em;
    @Inject
    @Any
    Instance<IssuerChangeListener> listeners;

    private volatile long lastSeen = -1;
    /** Outbox events of this instance already applied at commit, not yet read by the poll. */
    private final Set<Long> appliedAtCommit = ConcurrentHashMap.newKeySet();

    void onStart(@Observes StartupEvent e) {
        try {
            lastSeen = QuarkusTransaction.requiringNew().call(this::head);
        } catch (RuntimeException ex) {
            LOG.warn("outbox not readable at start; JWKS will be loaded on demand", ex);
        }
    }

    @Scheduled(every = "${keyhold.jwks.refresh-interval}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            delayed = "1s")
    void poll() {
        try {
            QuarkusTransaction.requiringNew().run(this::catchUp);
        } catch (RuntimeException ex) {
            // Keep serving what is cached; a database outage must not take the JWKS down (SPEC invariant 7).
            LOG.debugf("outbox poll failed: %s", ex.getMessage());
        }
    }

    synchronized void catchUp() {
        if (lastSeen < 0) {
            lastSeen = head();
            listeners.forEach(IssuerChangeListener::invalidateAll);
            return;
        }
        @SuppressWarnings("unchecked")
        List<Object[]> rows = em.createNativeQuery(
                        "select seq, issuer_id from outbox_event where seq > ?1 order by seq limit 1000")
                .setParameter(1, lastSeen).getResultList();
        for (Object[] row : rows) {
            long seq = ((Number) row[0]).longValue();
            String issuerId = (String) row[1];
            if (!appliedAtCommit.remove(seq) && issuerId != null) {
                listeners.forEach(l -> l.invalidate(issuerId));
            }
            lastSeen = seq;
        }
        long seen = lastSeen;
        appliedAtCommit.removeIf(s -> s <= seen);
    }

    synchronized void onCommitted(@Observes(during = TransactionPhase.AFTER_SUCCESS) RecordedChange change) {
        if (!change.announced() || change.issuerId() == null || lastSeen < 0 || change.outboxSeq() <= lastSeen) {
            return; // audit-only, or not about an issuer, or the poll has applied it already
        }
        appliedAtCommit.add(change.outboxSeq());
        listeners.forEach(l -> l.invalidate(change.issuerId()));
    }

    private long head() {
        Number n = (Number) em.createNativeQuery("select coalesce(max(seq), 0) from outbox_event").getSingleResult();
        return n.longValue();
    }
}
