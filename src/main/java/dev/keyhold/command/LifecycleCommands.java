package dev.keyhold.command;

import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.domain.ActivationKind;
import dev.keyhold.domain.ActivationRequest;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import dev.keyhold.domain.Transition;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.store.ActivationDecisionEntity;
import dev.keyhold.store.ActivationRequestEntity;
import dev.keyhold.store.KeyEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.hibernate.LockMode;
import org.hibernate.Session;

/**
 * The only writer of key, activation request and decision rows ({@code SingleWriterTest} checks the compiled classes
 * for any other). Every command runs in the caller's transaction and
 * <ol>
 *   <li>requires the caller to hold the row lock of the issuer the row belongs to (the project's lock order: issuer
 *   row first, then request and key rows), and refuses a row of another issuer;</li>
 *   <li>stores the new value a pure domain transition returned ({@code dev.keyhold.domain}: the transition tables,
 *   the deadline functions), or the row a creation returned;</li>
 *   <li>records the transition's change through {@link ChangeRecorder}: the audit record and, when announced, the
 *   outbox event, in this transaction. Recording fires {@code RecordedChange} synchronously, on which
 *   {@code lifecycle/NextDue} stores the issuer's {@code next_due_at} from the same Java planner the sweeper runs, so
 *   the stored value never lags a committed change.</li>
 * </ol>
 * Deciding what to do (who may, whether a deadline has come, which transition) is the callers'; writing it is here.
 */
@ApplicationScoped
public class LifecycleCommands {

    /** Lock modes under which this transaction holds the issuer row exclusively. */
    private static final Set<LockMode> ROW_LOCKS =
            EnumSet.of(LockMode.PESSIMISTIC_WRITE, LockMode.PESSIMISTIC_FORCE_INCREMENT, LockMode.WRITE);

    @Inject
    ChangeRecorder recorder;

    @Inject
    EntityManager em;

    @Inject
    HsmAfterCommit hsmAfterCommit;

    @Inject
    dev.keyhold.policy.Statements statements;

    /** Stores a newly generated PENDING key and records {@code key.created}. */
    @Transactional(Transactional.TxType.MANDATORY)
    public KeyEntity createKey(IssuerEntity issuer, Transition<Key> created, String actor) {
        requireLocked(issuer, created.value().issuerId());
        KeyEntity k = KeyEntity.of(created.value());
        k.persist();
        recorder.record(Change.of(created.change(), actor, issuer.id));
        return k;
    }

    /**
     * Opens a request of {@code kind} for the issuer's custodians (M of N, the issuer's approvals and TTL as they are
     * now) and records {@code activation.requested}. {@code kid}: the key to activate, null for issuer requests.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public ActivationRequestEntity openRequest(
            IssuerEntity issuer,
            ActivationKind kind,
            String kid,
            String requester,
            String reason,
            String payload,
            Instant now) {
        return openRequest(issuer, kind, kid, requester, reason, payload, null, now);
    }

    /**
     * The same, with the proposed policy version of a resume or policy change; the request's statement (the bytes
     * custodians sign) is fixed here.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public ActivationRequestEntity openRequest(
            IssuerEntity issuer,
            ActivationKind kind,
            String kid,
            String requester,
            String reason,
            String payload,
            String proposedPolicy,
            Instant now) {
        requireLocked(issuer, issuer.id);
        Transition<ActivationRequest> opened = ActivationRequest.open(
                UUID.randomUUID(),
                kind,
                issuer.id,
                kid,
                requester,
                issuer.approvalsRequired,
                now,
                Duration.ofSeconds(issuer.approvalTtlSeconds));
        ActivationRequestEntity r = ActivationRequestEntity.of(
                opened.value(),
                reason,
                payload,
                statements.statement(issuer, opened.value(), payload, proposedPolicy),
                proposedPolicy);
        r.persist();
        recorder.record(Change.of(opened.change(), requester, issuer.id));
        return r;
    }

    /**
     * Stores one custodian's decision on an OPEN request and records it (audit only: the request's own transition,
     * if the decision completes one, is recorded by {@link #apply(IssuerEntity, ActivationRequestEntity, Transition,
     * String)}). Flushed at once, so a second decision by the same custodian fails here on the primary key.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public void recordDecision(
            IssuerEntity issuer,
            ActivationRequestEntity r,
            String custodian,
            boolean approve,
            String comment,
            Instant now,
            Map<String, Object> attempt) {
        recordDecision(issuer, r, custodian, approve, comment, now, attempt, null, null);
    }

    /** The same, storing the verified signature (canonical JSON) and credential of an approval. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void recordDecision(
            IssuerEntity issuer,
            ActivationRequestEntity r,
            String custodian,
            boolean approve,
            String comment,
            Instant now,
            Map<String, Object> attempt,
            String signature,
            String credentialId) {
        requireLocked(issuer, r.issuerId);
        ActivationDecisionEntity.of(r.id, custodian, approve, comment, now, signature, credentialId)
                .persist();
        em.flush();
        Map<String, Object> decided = new LinkedHashMap<>(attempt);
        if (comment != null) {
            decided.put("comment", comment);
        }
        recorder.record(Change.auditOnly("activation.decision", custodian, Change.SUCCESS, issuer.id, r.kid, decided));
    }

    /** Stores a request transition's new value and records its change (an execution records none of its own). */
    @Transactional(Transactional.TxType.MANDATORY)
    public void apply(IssuerEntity issuer, ActivationRequestEntity r, Transition<ActivationRequest> t, String actor) {
        requireLocked(issuer, r.issuerId);
        requireSame(r.id, t.value().id());
        r.apply(t.value());
        if (t.change() != null) {
            recorder.record(Change.of(t.change(), actor, issuer.id));
        }
    }

    /** Stores a key transition's new value and records its change. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void apply(IssuerEntity issuer, KeyEntity k, Transition<Key> t, String actor) {
        requireLocked(issuer, k.issuerId);
        requireSame(k.kid, t.value().kid());
        KeyState before = k.state;
        k.apply(t.value());
        recorder.record(Change.of(t.change(), actor, issuer.id));
        deleteAfterCommit(k, before);
    }

    /**
     * Stores several key transitions of one issuer, then records their changes in order: whatever observes the
     * first record (the trust bundle, computed then) sees every row already changed, so one change of several keys
     * is one bundle, not one per key.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public void applyAll(IssuerEntity issuer, Map<KeyEntity, Transition<Key>> transitions, String actor) {
        transitions.forEach((k, t) -> {
            requireLocked(issuer, k.issuerId);
            requireSame(k.kid, t.value().kid());
        });
        Map<KeyEntity, KeyState> before = new LinkedHashMap<>();
        transitions.keySet().forEach(k -> before.put(k, k.state));
        transitions.forEach((k, t) -> k.apply(t.value()));
        transitions.values().forEach(t -> recorder.record(Change.of(t.change(), actor, issuer.id)));
        before.forEach(this::deleteAfterCommit);
    }

    /**
     * A key that has just stopped being able to sign loses its private key object, and a destroyed key the rest of
     * its HSM objects, after this transaction commits (invariant 9; see {@link HsmAfterCommit}).
     */
    private void deleteAfterCommit(KeyEntity k, KeyState before) {
        if (k.state == before) {
            return;
        }
        switch (k.state) {
            case RETIRED, REVOKED ->
                hsmAfterCommit.afterCommit(k.kid, k.partition, k.hsmHandle, HsmAfterCommit.Deletion.PRIVATE_KEY);
            case DESTROYED ->
                hsmAfterCommit.afterCommit(k.kid, k.partition, k.hsmHandle, HsmAfterCommit.Deletion.EVERYTHING);
            default -> {}
        }
    }

    /**
     * Records once that the issuer's ACTIVE key is past its rotation deadline with no successor active
     * ({@code rotation.overdue}); the planner then stops scheduling the announcement for this key.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public void announceOverdue(
            IssuerEntity issuer, KeyEntity k, Instant now, String actor, Map<String, Object> details) {
        requireLocked(issuer, k.issuerId);
        if (k.overdueNotifiedAt != null) {
            throw new IllegalStateException("rotation.overdue of key " + k.kid + " was already announced");
        }
        k.overdueNotifiedAt = now;
        recorder.record(Change.announced("rotation.overdue", actor, issuer.id, k.kid, details));
    }

    /**
     * The lock check: the caller must hold the issuer's row lock in this transaction (IssuerService.lock, a
     * pessimistic write lock; or the row was written in this transaction, which Hibernate then reports as WRITE and
     * which holds the same row lock until commit), and the row must be that issuer's. A command without it could
     * interleave with another instance's command on the same issuer, or (the cross-issuer case) write one issuer's
     * row under another's lock.
     */
    private void requireLocked(IssuerEntity issuer, String rowIssuerId) {
        if (issuer == null
                || !em.contains(issuer)
                || !ROW_LOCKS.contains(em.unwrap(Session.class).getCurrentLockMode(issuer))) {
            throw new IllegalStateException(
                    "a lifecycle command needs the issuer row lock of " + (issuer == null ? rowIssuerId : issuer.id));
        }
        if (!issuer.id.equals(rowIssuerId)) {
            throw new IllegalStateException(
                    "a row of issuer " + rowIssuerId + " cannot be written under the lock of " + issuer.id);
        }
    }

    private static void requireSame(Object row, Object value) {
        if (!row.equals(value)) {
            throw new IllegalStateException("transition of " + value + " applied to row " + row);
        }
    }
}
