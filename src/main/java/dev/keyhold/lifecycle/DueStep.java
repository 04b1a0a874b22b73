package dev.keyhold.lifecycle;

import dev.keyhold.domain.ActivationKind;
import dev.keyhold.domain.ActivationState;
import dev.keyhold.domain.Deadlines;
import dev.keyhold.domain.IssuerPolicy;
import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The one step due for an issuer: a pure function of its state and the time, so the priority order is unit-tested
 * without a database. {@code kid} and {@code requestId} name what the step acts on.
 */
public record DueStep(StepKind kind, String kid, UUID requestId) {

    /** A live (OPEN or APPROVED) activation request, as the planner needs it. */
    public record LiveRequest(UUID id, ActivationKind kind, ActivationState state, String kid, Instant expiresAt) {}

    /**
     * The instant at which an issuer whose state is "due at once" (a new issuer without keys, an approved request whose
     * key is no longer PENDING, an ACTIVE key whose HSM object is missing) has work: any sweep finds it due.
     */
    public static final Instant AT_ONCE = Instant.EPOCH; // as Deadlines.prepareDueAt

    /** One thing that will be due at {@code dueAt} if the state does not change before. */
    record Candidate(Instant dueAt, DueStep step) {}

    /**
     * @param keys            the issuer's keys, any states
     * @param live            its OPEN and APPROVED requests
     * @param overdueNotified kids whose keyhold.rotation.overdue was already emitted
     */
    public static Optional<DueStep> next(
            IssuerStatus status,
            IssuerPolicy policy,
            Collection<Key> keys,
            List<LiveRequest> live,
            Set<String> overdueNotified,
            Instant now) {
        return candidates(status, policy, keys, live, overdueNotified).stream()
                .filter(c -> !now.isBefore(c.dueAt()))
                .map(Candidate::step)
                .findFirst();
    }

    /**
     * The first instant at which {@link #next} finds a step for this state, or empty when nothing will ever be due
     * without a change first (a suspended issuer without keys). The scheduler stores it per issuer
     * ({@code issuer.next_due_at}) with every change and sweeps the issuers whose instant has come: both answers come
     * from the same {@link #candidates} list, so they cannot disagree.
     */
    public static Optional<Instant> nextDueAt(
            IssuerStatus status,
            IssuerPolicy policy,
            Collection<Key> keys,
            List<LiveRequest> live,
            Set<String> overdueNotified) {
        return candidates(status, policy, keys, live, overdueNotified).stream()
                .map(Candidate::dueAt)
                .min(Instant::compareTo);
    }

    /** Every step that is or will become due for this state, in priority order, each with the instant it becomes due. */
    static List<Candidate> candidates(
            IssuerStatus status,
            IssuerPolicy policy,
            Collection<Key> keys,
            List<LiveRequest> live,
            Set<String> overdueNotified) {
        List<Candidate> due = new ArrayList<>();
        for (LiveRequest r : live) {
            if (r.state() == ActivationState.OPEN) {
                due.add(new Candidate(r.expiresAt(), new DueStep(StepKind.EXPIRE_REQUEST, r.kid(), r.id())));
            }
        }
        boolean running = status == IssuerStatus.ACTIVE;
        Map<String, Key> byKid = keys.stream().collect(Collectors.toMap(Key::kid, Function.identity()));
        if (running) {
            for (LiveRequest r : live) {
                if (r.state() != ActivationState.APPROVED || r.kind() != ActivationKind.KEY_ACTIVATION) {
                    continue;
                }
                Key k = byKid.get(r.kid());
                // A revoked key's approved request is due too: executing it closes it as CANCELLED.
                Instant at = k == null || k.state() != KeyState.PENDING ? AT_ONCE : k.activatableAt();
                due.add(new Candidate(at, new DueStep(StepKind.ACTIVATE, r.kid(), r.id())));
            }
        }
        Key active = only(keys, KeyState.ACTIVE);
        Key pending = only(keys, KeyState.PENDING);
        if (active != null) {
            Deadlines.retireDueAt(active)
                    .ifPresent(at ->
                            due.add(new Candidate(at, new DueStep(StepKind.RETIRE_AT_DEADLINE, active.kid(), null))));
        }
        if (running) {
            Deadlines.prepareDueAt(active, pending, policy)
                    .ifPresent(at -> due.add(new Candidate(at, new DueStep(StepKind.PREPARE, null, null))));
        }
        if (active != null && !overdueNotified.contains(active.kid())) {
            Deadlines.overdueAt(active, policy)
                    .ifPresent(at ->
                            due.add(new Candidate(at, new DueStep(StepKind.ANNOUNCE_OVERDUE, active.kid(), null))));
        }
        for (Key k : keys) {
            Deadlines.unpublishDueAt(k)
                    .ifPresent(at -> due.add(new Candidate(at, new DueStep(StepKind.UNPUBLISH, k.kid(), null))));
        }
        for (Key k : keys) {
            Deadlines.destroyDueAt(k)
                    .ifPresent(at -> due.add(new Candidate(at, new DueStep(StepKind.DESTROY, k.kid(), null))));
        }
        return due;
    }

    private static Key only(Collection<Key> keys, KeyState state) {
        return keys.stream().filter(k -> k.state() == state).findFirst().orElse(null);
    }
}
