package dev.keyhold.audit;

import dev.keyhold.config.NodeName;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

/**
 * The one recording path (SPEC invariants 6 and 8). Called inside the transaction that makes a change, it
 * appends the audit record to the hash chain and, for announced changes, the event to the outbox: all three
 * commit together or not at all.
 *
 * <p>A transaction-scoped advisory lock serialises appends. That keeps the chain one line, and it makes outbox
 * sequence numbers visible in commit order, so a feed reader polling {@code seq > last} never skips an event
 * that committed late. Callers record at the end of their transaction, after any slow HSM work, to keep the
 * lock short.
 */
@ApplicationScoped
public class ChangeRecorder {

    /** Advisory lock key of the audit chain ("Keyhold" in ASCII). */
    static final long CHAIN_LOCK = 0x4b6579686f6c64L;

    @Inject
    EntityManager em;

    @Inject
    Clock clock;

    @Inject
    NodeName node;

    @Inject
    RequestIds requestIds;

    @Inject
    Event<RecordedChange> recorded;

    @Transactional(Transactional.TxType.MANDATORY)
    public long record(Change change) {
        em.createNativeQuery("select count(*) from (select pg_advisory_xact_lock(?1)) l")
                .setParameter(1, CHAIN_LOCK)
                .getSingleResult();
        @SuppressWarnings("unchecked")
        List<Object[]> head = em.createNativeQuery(
                        "select seq, hash, recorded_at from audit_record order by seq desc limit 1")
                .getResultList();
        long seq = head.isEmpty() ? 1 : ((Number) head.get(0)[0]).longValue() + 1;
        String prev = head.isEmpty() ? AuditHash.GENESIS : (String) head.get(0)[1];
        Instant at = clock.instant();
        // Time never runs backwards along the chain (a node whose clock lags records the previous record's time),
        // so a time window is a seq range: auditor queries rely on it (AuditQueryService).
        if (!head.isEmpty() && at.isBefore(SqlTime.instant(head.get(0)[2]))) {
            at = SqlTime.instant(head.get(0)[2]);
        }
        String details = AuditHash.canonicalJson(change.details());
        String requestId = requestIds.current();
        String hash = AuditHash.compute(
                seq,
                at,
                node.get(),
                change.actor(),
                change.action(),
                change.outcome(),
                change.issuerId(),
                change.kid(),
                requestId,
                details,
                prev);
        em.createNativeQuery(
                        "insert into audit_record (seq, recorded_at, node, actor, action, outcome, issuer_id, kid,"
                                + " request_id, details, prev_hash, hash) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")
                .setParameter(1, seq)
                .setParameter(2, Timestamp.from(at))
                .setParameter(3, node.get())
                .setParameter(4, change.actor())
                .setParameter(5, change.action())
                .setParameter(6, change.outcome())
                .setParameter(7, change.issuerId())
                .setParameter(8, change.kid())
                .setParameter(9, requestId)
                .setParameter(10, details)
                .setParameter(11, prev)
                .setParameter(12, hash)
                .executeUpdate();
        long outboxSeq = 0;
        if (change.eventType() != null) {
            outboxSeq = ((Number) em.createNativeQuery("select nextval('outbox_event_seq')")
                            .getSingleResult())
                    .longValue();
            em.createNativeQuery("insert into outbox_event (seq, type, source, issuer_id, subject, event_time, data)"
                            + " values (?7, ?1, ?2, ?3, ?4, ?5, ?6)")
                    .setParameter(1, change.eventType())
                    .setParameter(2, change.issuerId() == null ? "/keyhold" : "/issuers/" + change.issuerId())
                    .setParameter(3, change.issuerId())
                    .setParameter(4, change.kid())
                    .setParameter(5, Timestamp.from(at))
                    .setParameter(6, AuditHash.canonicalJson(change.eventData()))
                    .setParameter(7, outboxSeq)
                    .executeUpdate();
        }
        recorded.fire(new RecordedChange(seq, change.action(), change.issuerId(), change.kid(), outboxSeq));
        return seq;
    }
}
