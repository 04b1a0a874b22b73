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

/**
 * Keeps every {@link IssuerChangeListener} in step with issuer changes: at once after a change commits on this
 * instance, and by following the outbox for changes made by other instances on the same database. The outbox
 * is visible in commit order (see ChangeRecorder), so "seq > last seen" misses nothing.
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

    void catchUp() {
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
            String issuerId = (String) row[1];
            listeners.forEach(l -> l.invalidate(issuerId));
            lastSeen = ((Number) row[0]).longValue();
        }
    }

    void onCommitted(@Observes(during = TransactionPhase.AFTER_SUCCESS) RecordedChange change) {
        if (change.issuerId() != null) {
            listeners.forEach(l -> l.invalidate(change.issuerId()));
        }
    }

    private long head() {
        Number n = (Number) em.createNativeQuery("select coalesce(max(seq), 0) from outbox_event").getSingleResult();
        return n.longValue();
    }
}
