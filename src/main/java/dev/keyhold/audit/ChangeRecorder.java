package dev.keyhold.audit;

import dev.keyhold.config.NodeName;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;

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
    AuditStore store;

    @Inject
    OutboxStore outbox;

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
        store.lockChain();
        Optional<AuditStore.ChainHead> head = store.head();
        long seq = head.map(h -> h.seq() + 1).orElse(1L);
        String prev = head.map(AuditStore.ChainHead::hash).orElse(AuditHash.GENESIS);
        Instant at = clock.instant();
        // Time never runs backwards along the chain (a node whose clock lags records the previous record's time),
        // so a time window is a seq range: auditor queries rely on it (AuditQueryService).
        if (head.isPresent() && at.isBefore(head.get().recordedAt())) {
            at = head.get().recordedAt();
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
        store.append(new AuditRow(
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
                prev,
                hash));
        long outboxSeq = 0;
        if (change.eventType() != null) {
            outboxSeq = outbox.nextSeq();
            outbox.append(new OutboxStore.EventRow(
                    outboxSeq,
                    change.eventType(),
                    change.issuerId() == null ? "/keyhold" : "/issuers/" + change.issuerId(),
                    change.issuerId(),
                    change.kid(),
                    at,
                    AuditHash.canonicalJson(change.eventData())));
        }
        recorded.fire(new RecordedChange(seq, change.action(), change.issuerId(), change.kid(), outboxSeq));
        return seq;
    }
}
