package dev.keyhold.lifecycle;

import dev.keyhold.audit.RecordedChange;
import dev.keyhold.domain.ActivationState;
import dev.keyhold.domain.Key;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.store.ActivationRequestEntity;
import dev.keyhold.store.IssuerStore;
import dev.keyhold.store.KeyEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Keeps {@code issuer.next_due_at} equal to the planner's answer ({@link DueStep#nextDueAt}) for the issuer's rows,
 * so the sweeper only has to select {@code next_due_at <= now}. It is stored inside the transaction of every
 * recorded change of an issuer: the one recording path ({@code ChangeRecorder}) fires {@link RecordedChange}
 * synchronously, and every change of a key, an activation request or an issuer's status or policy is recorded there
 * (after the rows were changed, under the issuer row lock, which is the project's lock order). The sweeper stores it
 * again after each step, so an issuer found due with nothing to do (a value written before the rows changed behind
 * Keyhold's back, or the migration's backfill) gets its real next instant. Null: nothing will be due until a change.
 */
@ApplicationScoped
public class NextDue {

    @Inject
    EntityManager em;

    @Inject
    IssuerStore issuers;

    /** What the planner reads about one issuer. */
    public record PlannerInput(
            List<KeyEntity> keyRows, List<Key> keys, List<DueStep.LiveRequest> live, Set<String> overdueNotified) {}

    /** The issuer's keys and live requests as they are in this transaction. */
    @Transactional(Transactional.TxType.MANDATORY)
    public PlannerInput input(String issuerId) {
        List<KeyEntity> rows = KeyEntity.ofIssuer(issuerId);
        List<Key> keys = rows.stream().map(KeyEntity::toKey).toList();
        Set<String> notified = rows.stream()
                .filter(k -> k.overdueNotifiedAt != null)
                .map(k -> k.kid)
                .collect(Collectors.toSet());
        List<DueStep.LiveRequest> live = ActivationRequestEntity.<ActivationRequestEntity>list(
                        "issuerId = ?1 and state in ?2 order by createdAt, id",
                        issuerId,
                        List.of(ActivationState.OPEN, ActivationState.APPROVED))
                .stream()
                .map(r -> new DueStep.LiveRequest(r.id, r.kind, r.state, r.kid, r.expiresAt))
                .toList();
        return new PlannerInput(rows, keys, live, notified);
    }

    /** The planner's next instant for the issuer's rows as they are in this transaction (empty: nothing scheduled). */
    @Transactional(Transactional.TxType.MANDATORY)
    public Optional<Instant> plan(IssuerEntity issuer) {
        PlannerInput in = input(issuer.id);
        return DueStep.nextDueAt(issuer.status, issuer.policy(), in.keys(), in.live(), in.overdueNotified());
    }

    /** The stored value, as the sweeper reads it. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Optional<Instant> stored(String issuerId) {
        return issuers.nextDueAt(issuerId);
    }

    /**
     * Stores the planner's answer for the issuer; writes only when it differs, so a change that moves no deadline
     * (a decision short of M, a denial) does not touch the issuer row.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public void store(String issuerId) {
        em.flush(); // the planner reads the rows, including this transaction's changes
        IssuerEntity issuer = em.find(IssuerEntity.class, issuerId);
        if (issuer == null) {
            return;
        }
        Optional<Instant> next = plan(issuer);
        if (same(next, stored(issuerId))) {
            return;
        }
        // Every change of what the planner reads is made under the issuer row lock, which this update then already
        // holds. A transaction without it (an audit-only record next to a stale value) skips the row rather than wait
        // for it under the audit chain lock, which the lock holder may be waiting for; the holder stores it.
        issuers.storeNextDueAt(issuerId, next);
    }

    void onRecorded(@Observes RecordedChange change) {
        if (change.issuerId() != null) {
            store(change.issuerId());
        }
    }

    /** PostgreSQL keeps microseconds: a planned instant with nanoseconds is stored rounded. */
    private static boolean same(Optional<Instant> planned, Optional<Instant> stored) {
        if (planned.isEmpty() || stored.isEmpty()) {
            return planned.isEmpty() && stored.isEmpty();
        }
        return Duration.between(planned.get(), stored.get()).abs().compareTo(Duration.ofNanos(1000)) < 0;
    }
}
