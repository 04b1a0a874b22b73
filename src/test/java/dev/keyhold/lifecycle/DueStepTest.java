package dev.keyhold.lifecycle;

import dev.keyhold.domain.ActivationKind;
import dev.keyhold.domain.ActivationState;
import dev.keyhold.hsm.SigningAlgorithm;
import dev.keyhold.domain.IssuerPolicy;
import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The planner's priority order and the suspended-issuer rules, without a database. */
class DueStepTest {

    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    static final IssuerPolicy P = new IssuerPolicy(Duration.ofHours(4), Duration.ofHours(2), Duration.ofHours(1),
            Duration.ofHours(6), Duration.ofHours(1), Duration.ofDays(2));

    static Key key(String kid, KeyState s, Instant activatableAt, Instant activatedAt, Instant retiredAt,
                   Instant unpublishedAt, Instant destroyAt) {
        return new Key(kid, "iss", SigningAlgorithm.ES256, "default", "kh-iss-" + kid, "{}", s, T0, activatableAt,
                activatedAt, activatedAt == null ? null : activatedAt.plus(P.activeDeadline()), retiredAt,
                retiredAt == null ? null : retiredAt.plus(P.tokenTtl()), unpublishedAt, destroyAt, null,
                s == KeyState.REVOKED ? T0 : null, null, null);
    }

    static Optional<StepKind> next(IssuerStatus st, List<Key> keys, List<DueStep.LiveRequest> live, Set<String> notified,
                                   Instant now) {
        return DueStep.next(st, P, keys, live, notified, now).map(DueStep::kind);
    }

    @Test
    void aNewIssuerGetsItsFirstKey() {
        assertThat(next(IssuerStatus.ACTIVE, List.of(), List.of(), Set.of(), T0)).contains(StepKind.PREPARE);
        assertThat(next(IssuerStatus.SUSPENDED, List.of(), List.of(), Set.of(), T0)).isEmpty();
    }

    @Test
    void everythingDueAtOnceIsTakenInPriorityOrderOneStepAtATime() {
        Instant now = T0.plus(Duration.ofDays(3));
        Key active = key("a", KeyState.ACTIVE, T0, T0, null, null, null); // past notAfter, overdue
        Key retired = key("r", KeyState.RETIRED, T0, T0, T0, null, null); // past verifyUntil
        Key gone = key("g", KeyState.REVOKED, T0, null, null, null, T0.plusSeconds(1)); // past destroyAt
        Key pending = key("p", KeyState.PENDING, T0.plus(Duration.ofDays(4)), null, null, null, null);
        UUID open = UUID.randomUUID();
        UUID approved = UUID.randomUUID();
        var openReq = new DueStep.LiveRequest(open, ActivationKind.ISSUER_RESUME, ActivationState.OPEN, null, now);
        var approvedReq = new DueStep.LiveRequest(approved, ActivationKind.KEY_ACTIVATION, ActivationState.APPROVED, "p",
                now.plus(Duration.ofDays(1)));
        List<Key> keys = List.of(active, retired, gone, pending);
        assertThat(next(IssuerStatus.ACTIVE, keys, List.of(openReq, approvedReq), Set.of(), now))
                .contains(StepKind.EXPIRE_REQUEST);
        // pending not yet activatable: the approved request waits
        assertThat(next(IssuerStatus.ACTIVE, keys, List.of(approvedReq), Set.of(), now)).contains(StepKind.RETIRE_AT_DEADLINE);
        Key activatable = key("p", KeyState.PENDING, now, null, null, null, null);
        assertThat(next(IssuerStatus.ACTIVE, List.of(active, retired, gone, activatable), List.of(approvedReq), Set.of(), now))
                .contains(StepKind.ACTIVATE);
        Key activeInTime = key("a", KeyState.ACTIVE, T0, now.minus(Duration.ofHours(4)), null, null, null);
        assertThat(next(IssuerStatus.ACTIVE, List.of(activeInTime, retired, gone), List.of(), Set.of(), now))
                .contains(StepKind.PREPARE);
        assertThat(next(IssuerStatus.ACTIVE, List.of(activeInTime, retired, gone, pending), List.of(), Set.of(), now))
                .contains(StepKind.ANNOUNCE_OVERDUE);
        assertThat(next(IssuerStatus.ACTIVE, List.of(activeInTime, retired, gone, pending), List.of(), Set.of("a"), now))
                .contains(StepKind.UNPUBLISH);
        assertThat(next(IssuerStatus.ACTIVE, List.of(activeInTime, gone, pending), List.of(), Set.of("a"), now))
                .contains(StepKind.DESTROY);
        assertThat(next(IssuerStatus.ACTIVE, List.of(activeInTime, pending), List.of(), Set.of("a"), now)).isEmpty();
    }

    @Test
    void aSuspendedIssuerIsNeitherPreparedNorActivatedButItsDeadlinesStillHold() {
        Instant now = T0.plus(Duration.ofDays(3));
        Key active = key("a", KeyState.ACTIVE, T0, now.minus(Duration.ofHours(5)), null, null, null);
        Key activatable = key("p", KeyState.PENDING, T0, null, null, null, null);
        var approvedReq = new DueStep.LiveRequest(UUID.randomUUID(), ActivationKind.KEY_ACTIVATION,
                ActivationState.APPROVED, "p", now.plus(Duration.ofDays(1)));
        assertThat(next(IssuerStatus.SUSPENDED, List.of(active, activatable), List.of(approvedReq), Set.of(), now))
                .contains(StepKind.ANNOUNCE_OVERDUE);
        assertThat(next(IssuerStatus.SUSPENDED, List.of(active), List.of(), Set.of("a"), now)).as("no prepare").isEmpty();
        Key late = key("a", KeyState.ACTIVE, T0, now.minus(Duration.ofHours(6)), null, null, null);
        assertThat(next(IssuerStatus.SUSPENDED, List.of(late), List.of(), Set.of("a"), now)).contains(StepKind.RETIRE_AT_DEADLINE);
        Key retired = key("r", KeyState.RETIRED, T0, T0, T0, null, null);
        assertThat(next(IssuerStatus.SUSPENDED, List.of(retired), List.of(), Set.of(), now)).contains(StepKind.UNPUBLISH);
        Key doomed = key("r", KeyState.RETIRED, T0, T0, T0, T0, now);
        assertThat(next(IssuerStatus.SUSPENDED, List.of(doomed), List.of(), Set.of(), now)).contains(StepKind.DESTROY);
        var open = new DueStep.LiveRequest(UUID.randomUUID(), ActivationKind.KEY_ACTIVATION, ActivationState.OPEN, "p", now);
        assertThat(next(IssuerStatus.SUSPENDED, List.of(), List.of(open), Set.of(), now)).contains(StepKind.EXPIRE_REQUEST);
    }

    @Test
    void anOpenRequestExpiresAtExpiresAtNotASecondEarlier() {
        var open = new DueStep.LiveRequest(UUID.randomUUID(), ActivationKind.KEY_ACTIVATION, ActivationState.OPEN, "p", T0);
        Key pending = key("p", KeyState.PENDING, T0.plus(Duration.ofHours(9)), null, null, null, null);
        assertThat(next(IssuerStatus.ACTIVE, List.of(pending), List.of(open), Set.of(), T0.minusSeconds(1))).isEmpty();
        assertThat(next(IssuerStatus.ACTIVE, List.of(pending), List.of(open), Set.of(), T0)).contains(StepKind.EXPIRE_REQUEST);
        assertThat(next(IssuerStatus.ACTIVE, List.of(pending), List.of(open), Set.of(), T0.plusSeconds(1))).contains(StepKind.EXPIRE_REQUEST);
    }
}
