package dev.keyhold.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.domain.ActivationKind;
import dev.keyhold.domain.ActivationState;
import dev.keyhold.domain.IssuerPolicy;
import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import dev.keyhold.domain.SigningAlgorithm;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The planner's priority order and the suspended-issuer rules, without a database. */
class DueStepTest {

    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    static final IssuerPolicy P = new IssuerPolicy(
            Duration.ofHours(4),
            Duration.ofHours(2),
            Duration.ofHours(1),
            Duration.ofHours(6),
            Duration.ofHours(1),
            Duration.ofDays(2));

    static Key key(
            String kid,
            KeyState s,
            Instant activatableAt,
            Instant activatedAt,
            Instant retiredAt,
            Instant unpublishedAt,
            Instant destroyAt) {
        return new Key(
                kid,
                "iss",
                SigningAlgorithm.ES256,
                "default",
                "kh-iss-" + kid,
                "{}",
                s,
                T0,
                activatableAt,
                activatedAt,
                activatedAt == null ? null : activatedAt.plus(P.activeDeadline()),
                retiredAt,
                retiredAt == null ? null : retiredAt.plus(P.tokenTtl()),
                unpublishedAt,
                destroyAt,
                null,
                s == KeyState.REVOKED ? T0 : null,
                null,
                null);
    }

    static Optional<StepKind> next(
            IssuerStatus st, List<Key> keys, List<DueStep.LiveRequest> live, Set<String> notified, Instant now) {
        return DueStep.next(st, P, keys, live, notified, now).map(DueStep::kind);
    }

    @Test
    void aNewIssuerGetsItsFirstKey() {
        assertThat(next(IssuerStatus.ACTIVE, List.of(), List.of(), Set.of(), T0))
                .contains(StepKind.PREPARE);
        assertThat(next(IssuerStatus.SUSPENDED, List.of(), List.of(), Set.of(), T0))
                .isEmpty();
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
        var approvedReq = new DueStep.LiveRequest(
                approved, ActivationKind.KEY_ACTIVATION, ActivationState.APPROVED, "p", now.plus(Duration.ofDays(1)));
        List<Key> keys = List.of(active, retired, gone, pending);
        assertThat(next(IssuerStatus.ACTIVE, keys, List.of(openReq, approvedReq), Set.of(), now))
                .contains(StepKind.EXPIRE_REQUEST);
        // pending not yet activatable: the approved request waits
        assertThat(next(IssuerStatus.ACTIVE, keys, List.of(approvedReq), Set.of(), now))
                .contains(StepKind.RETIRE_AT_DEADLINE);
        Key activatable = key("p", KeyState.PENDING, now, null, null, null, null);
        assertThat(next(
                        IssuerStatus.ACTIVE,
                        List.of(active, retired, gone, activatable),
                        List.of(approvedReq),
                        Set.of(),
                        now))
                .contains(StepKind.ACTIVATE);
        Key activeInTime = key("a", KeyState.ACTIVE, T0, now.minus(Duration.ofHours(4)), null, null, null);
        assertThat(next(IssuerStatus.ACTIVE, List.of(activeInTime, retired, gone), List.of(), Set.of(), now))
                .contains(StepKind.PREPARE);
        assertThat(next(IssuerStatus.ACTIVE, List.of(activeInTime, retired, gone, pending), List.of(), Set.of(), now))
                .contains(StepKind.ANNOUNCE_OVERDUE);
        assertThat(next(
                        IssuerStatus.ACTIVE,
                        List.of(activeInTime, retired, gone, pending),
                        List.of(),
                        Set.of("a"),
                        now))
                .contains(StepKind.UNPUBLISH);
        assertThat(next(IssuerStatus.ACTIVE, List.of(activeInTime, gone, pending), List.of(), Set.of("a"), now))
                .contains(StepKind.DESTROY);
        assertThat(next(IssuerStatus.ACTIVE, List.of(activeInTime, pending), List.of(), Set.of("a"), now))
                .isEmpty();
    }

    @Test
    void aSuspendedIssuerIsNeitherPreparedNorActivatedButItsDeadlinesStillHold() {
        Instant now = T0.plus(Duration.ofDays(3));
        Key active = key("a", KeyState.ACTIVE, T0, now.minus(Duration.ofHours(5)), null, null, null);
        Key activatable = key("p", KeyState.PENDING, T0, null, null, null, null);
        var approvedReq = new DueStep.LiveRequest(
                UUID.randomUUID(),
                ActivationKind.KEY_ACTIVATION,
                ActivationState.APPROVED,
                "p",
                now.plus(Duration.ofDays(1)));
        assertThat(next(IssuerStatus.SUSPENDED, List.of(active, activatable), List.of(approvedReq), Set.of(), now))
                .contains(StepKind.ANNOUNCE_OVERDUE);
        assertThat(next(IssuerStatus.SUSPENDED, List.of(active), List.of(), Set.of("a"), now))
                .as("no prepare")
                .isEmpty();
        Key late = key("a", KeyState.ACTIVE, T0, now.minus(Duration.ofHours(6)), null, null, null);
        assertThat(next(IssuerStatus.SUSPENDED, List.of(late), List.of(), Set.of("a"), now))
                .contains(StepKind.RETIRE_AT_DEADLINE);
        Key retired = key("r", KeyState.RETIRED, T0, T0, T0, null, null);
        assertThat(next(IssuerStatus.SUSPENDED, List.of(retired), List.of(), Set.of(), now))
                .contains(StepKind.UNPUBLISH);
        Key doomed = key("r", KeyState.RETIRED, T0, T0, T0, T0, now);
        assertThat(next(IssuerStatus.SUSPENDED, List.of(doomed), List.of(), Set.of(), now))
                .contains(StepKind.DESTROY);
        var open = new DueStep.LiveRequest(
                UUID.randomUUID(), ActivationKind.KEY_ACTIVATION, ActivationState.OPEN, "p", now);
        assertThat(next(IssuerStatus.SUSPENDED, List.of(), List.of(open), Set.of(), now))
                .contains(StepKind.EXPIRE_REQUEST);
    }

    @Test
    void anOpenRequestExpiresAtExpiresAtNotASecondEarlier() {
        var open = new DueStep.LiveRequest(
                UUID.randomUUID(), ActivationKind.KEY_ACTIVATION, ActivationState.OPEN, "p", T0);
        Key pending = key("p", KeyState.PENDING, T0.plus(Duration.ofHours(9)), null, null, null, null);
        assertThat(next(IssuerStatus.ACTIVE, List.of(pending), List.of(open), Set.of(), T0.minusSeconds(1)))
                .isEmpty();
        assertThat(next(IssuerStatus.ACTIVE, List.of(pending), List.of(open), Set.of(), T0))
                .contains(StepKind.EXPIRE_REQUEST);
        assertThat(next(IssuerStatus.ACTIVE, List.of(pending), List.of(open), Set.of(), T0.plusSeconds(1)))
                .contains(StepKind.EXPIRE_REQUEST);
    }

    /**
     * The scheduler sweeps an issuer when its stored {@link DueStep#nextDueAt} has come, so that instant must be
     * exactly the first at which {@link DueStep#next} finds a step: never later (a step would be missed until some
     * other change) and never earlier for nothing. Random states (seeded, so a failure repeats), probed at every
     * deadline they hold, a millisecond and a second either side, and at random instants.
     */
    @Test
    void nextDueAtIsExactlyTheFirstInstantAtWhichAStepIsDue() {
        java.util.Random random = new java.util.Random(16);
        KeyState[] states = KeyState.values();
        int withWork = 0;
        for (int round = 0; round < 3000; round++) {
            List<Key> keys = new java.util.ArrayList<>();
            boolean hasActive = false;
            boolean hasPending = false;
            for (int i = random.nextInt(5); i > 0; i--) {
                KeyState st = states[random.nextInt(states.length)];
                if (st == KeyState.ACTIVE && hasActive || st == KeyState.PENDING && hasPending) {
                    continue; // the database allows one of each per issuer
                }
                hasActive |= st == KeyState.ACTIVE;
                hasPending |= st == KeyState.PENDING;
                keys.add(randomKey("k" + i, st, random));
            }
            List<DueStep.LiveRequest> live = new java.util.ArrayList<>();
            for (int i = random.nextInt(3); i > 0; i--) {
                ActivationKind kind = ActivationKind.values()[random.nextInt(ActivationKind.values().length)];
                ActivationState st = random.nextBoolean() ? ActivationState.OPEN : ActivationState.APPROVED;
                String kid = kind == ActivationKind.KEY_ACTIVATION ? "k" + random.nextInt(5) : null;
                live.add(new DueStep.LiveRequest(UUID.randomUUID(), kind, st, kid, at(random)));
            }
            IssuerStatus status = random.nextInt(4) == 0 ? IssuerStatus.SUSPENDED : IssuerStatus.ACTIVE;
            Set<String> notified = keys.stream()
                    .map(Key::kid)
                    .filter(k -> random.nextBoolean())
                    .collect(java.util.stream.Collectors.toSet());
            Optional<Instant> due = DueStep.nextDueAt(status, P, keys, live, notified);
            List<Instant> probes = new java.util.ArrayList<>(List.of(
                    Instant.EPOCH.minusMillis(1),
                    Instant.EPOCH,
                    T0.minus(Duration.ofDays(1)),
                    T0.plus(Duration.ofDays(40)),
                    at(random),
                    at(random)));
            for (DueStep.Candidate c : DueStep.candidates(status, P, keys, live, notified)) {
                for (long ms : new long[] {-1000, -1, 0, 1, 1000}) {
                    probes.add(c.dueAt().plusMillis(ms));
                }
            }
            for (Instant p : probes) {
                boolean expected = due.isPresent() && !p.isBefore(due.get());
                assertThat(DueStep.next(status, P, keys, live, notified, p).isPresent())
                        .as("round %d at %s: nextDueAt %s, keys %s, requests %s, %s", round, p, due, keys, live, status)
                        .isEqualTo(expected);
            }
            withWork += due.isPresent() ? 1 : 0;
        }
        assertThat(withWork).as("the random states exercise scheduled work").isGreaterThan(1000);
    }

    @Test
    void nothingIsScheduledForASuspendedIssuerWithoutKeysAndANewIssuerIsDueAtOnce() {
        assertThat(DueStep.nextDueAt(IssuerStatus.SUSPENDED, P, List.of(), List.of(), Set.of()))
                .isEmpty();
        assertThat(DueStep.nextDueAt(IssuerStatus.ACTIVE, P, List.of(), List.of(), Set.of()))
                .contains(DueStep.AT_ONCE);
        Key active = key("a", KeyState.ACTIVE, T0, T0, null, null, null);
        assertThat(DueStep.nextDueAt(IssuerStatus.ACTIVE, P, List.of(active), List.of(), Set.of()))
                .contains(dev.keyhold.domain.Deadlines.prepareAt(T0, P));
    }

    private static Instant at(java.util.Random random) {
        return T0.plusSeconds(random.nextInt(10 * 24 * 3600));
    }

    private static Key randomKey(String kid, KeyState st, java.util.Random random) {
        Instant activatable = at(random);
        Instant activated =
                st == KeyState.PENDING || st != KeyState.ACTIVE && random.nextInt(8) == 0 ? null : at(random);
        Instant notAfter = activated == null ? null : activated.plus(P.activeDeadline());
        Instant retired = st == KeyState.RETIRED || st == KeyState.DESTROYED ? at(random) : null;
        Instant verifyUntil = retired == null ? null : retired.plus(P.tokenTtl());
        Instant unpublished = retired != null && random.nextBoolean() ? verifyUntil : null;
        Instant destroyAt =
                (st == KeyState.RETIRED || st == KeyState.REVOKED) && random.nextBoolean() ? at(random) : null;
        Instant missing = random.nextInt(6) == 0 ? at(random) : null;
        return new Key(
                kid,
                "iss",
                SigningAlgorithm.ES256,
                "default",
                "kh-iss-" + kid,
                "{}",
                st,
                T0,
                activatable,
                activated,
                notAfter,
                retired,
                verifyUntil,
                unpublished,
                destroyAt,
                null,
                st == KeyState.REVOKED ? T0 : null,
                null,
                missing);
    }
}
