package dev.keyhold.lifecycle;

import dev.keyhold.domain.ActivationKind;
import dev.keyhold.domain.ActivationState;
import dev.keyhold.domain.IssuerPolicy;
import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import dev.keyhold.domain.Deadlines;

import java.time.Instant;
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
    public record LiveRequest(UUID id, ActivationKind kind, ActivationState state, String kid, Instant expiresAt) {
    }

    /**
     * @param keys            the issuer's keys, any states
     * @param live            its OPEN and APPROVED requests
     * @param overdueNotified kids whose keyhold.rotation.overdue was already emitted
     */
    public static Optional<DueStep> next(IssuerStatus status, IssuerPolicy policy, Collection<Key> keys,
                                         List<LiveRequest> live, Set<String> overdueNotified, Instant now) {
        for (LiveRequest r : live) {
            if (r.state() == ActivationState.OPEN && !now.isBefore(r.expiresAt())) {
                return Optional.of(new DueStep(StepKind.EXPIRE_REQUEST, r.kid(), r.id()));
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
                if (k == null || k.state() != KeyState.PENDING || !now.isBefore(k.activatableAt())) {
                    return Optional.of(new DueStep(StepKind.ACTIVATE, r.kid(), r.id()));
                }
            }
        }
        Key active = only(keys, KeyState.ACTIVE);
        Key pending = only(keys, KeyState.PENDING);
        if (active != null && Deadlines.pastDeadline(active, now)) {
            return Optional.of(new DueStep(StepKind.RETIRE_AT_DEADLINE, active.kid(), null));
        }
        if (running && Deadlines.shouldPrepare(active, pending, policy, now)) {
            return Optional.of(new DueStep(StepKind.PREPARE, null, null));
        }
        if (active != null && !overdueNotified.contains(active.kid()) && Deadlines.overdue(active, policy, now)) {
            return Optional.of(new DueStep(StepKind.ANNOUNCE_OVERDUE, active.kid(), null));
        }
        for (Key k : keys) {
            if (Deadlines.unpublishDue(k, now)) {
                return Optional.of(new DueStep(StepKind.UNPUBLISH, k.kid(), null));
            }
        }
        for (Key k : keys) {
            if (Deadlines.destroyDue(k, now)) {
                return Optional.of(new DueStep(StepKind.DESTROY, k.kid(), null));
            }
        }
        return Optional.empty();
    }

    private static Key only(Collection<Key> keys, KeyState state) {
        return keys.stream().filter(k -> k.state() == state).findFirst().orElse(null);
    }
}
