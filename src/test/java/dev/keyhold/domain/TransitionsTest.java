package dev.keyhold.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The pure transitions of keys and activation requests: new value, change to record, and refusals. */
class TransitionsTest {

    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    static final IssuerPolicy POLICY = new IssuerPolicy(
            Duration.ofDays(30),
            Duration.ofDays(1),
            Duration.ofHours(1),
            Duration.ofDays(45),
            Duration.ofDays(7),
            Duration.ofDays(2));

    static Key key(KeyState state) {
        return new Key(
                "kid-1",
                "acme",
                SigningAlgorithm.ES256,
                "default",
                "h1",
                "{}",
                state,
                T0,
                T0.plus(Duration.ofDays(1)),
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null);
    }

    static ActivationRequest request(ActivationState state) {
        return new ActivationRequest(
                UUID.fromString("00000000-0000-0000-0000-000000000001"),
                ActivationKind.KEY_ACTIVATION,
                "acme",
                "kid-1",
                "scheduler",
                state,
                2,
                T0,
                T0.plus(Duration.ofDays(2)),
                null,
                null);
    }

    @Test
    void activationSetsNotAfterAndRecordsKeyActivated() {
        Instant at = T0.plus(Duration.ofDays(1));
        Transition<Key> t = key(KeyState.PENDING).activate(at, POLICY, "req-1");
        assertThat(t.value().state()).isEqualTo(KeyState.ACTIVE);
        assertThat(t.value().activatedAt()).isEqualTo(at);
        assertThat(t.value().notAfter()).isEqualTo(at.plus(Duration.ofDays(45)));
        assertThat(t.change().action()).isEqualTo("key.activated");
        assertThat(t.change().announced()).isTrue();
        assertThat(t.change().details())
                .containsEntry("requestId", "req-1")
                .containsEntry("rotationDue", at.plus(Duration.ofDays(30)).toString());
    }

    @Test
    void activationIsNeverEarly() {
        Instant early = T0.plus(Duration.ofDays(1)).minusSeconds(1);
        assertThatThrownBy(() -> key(KeyState.PENDING).activate(early, POLICY, "r"))
                .isInstanceOf(IllegalTransitionException.class)
                .hasMessageContaining("activatableAt");
    }

    @Test
    void retirementRevocationAndDestructionSetTheirDeadlines() {
        Instant at = T0.plus(Duration.ofDays(10));
        Transition<Key> retired = key(KeyState.ACTIVE).retire(at, POLICY, "successor");
        assertThat(retired.value().state()).isEqualTo(KeyState.RETIRED);
        assertThat(retired.value().verifyUntil()).isEqualTo(at.plus(Duration.ofHours(1)));
        assertThat(retired.change().action()).isEqualTo("key.retired");

        Transition<Key> revoked = key(KeyState.ACTIVE).revoke(at, POLICY, "compromised");
        assertThat(revoked.value().state()).isEqualTo(KeyState.REVOKED);
        assertThat(revoked.value().revokedAt()).isEqualTo(at);
        assertThat(revoked.value().destroyAt()).isEqualTo(at.plus(Duration.ofDays(7)));
        assertThat(revoked.change().details())
                .containsEntry("previousState", "ACTIVE")
                .containsEntry("reason", "compromised");

        Transition<Key> destroyed = revoked.value().destroy(at.plus(Duration.ofDays(7)), "destroyed");
        assertThat(destroyed.value().state()).isEqualTo(KeyState.DESTROYED);
        assertThat(destroyed.value().destroyedAt()).isEqualTo(at.plus(Duration.ofDays(7)));
        assertThat(destroyed.change().details()).containsEntry("previousState", "REVOKED");
    }

    /** Every key move from every state: legal ones give that state, the others throw and leave nothing changed. */
    @ParameterizedTest
    @EnumSource(KeyState.class)
    void keyMovesFollowTheTable(KeyState from) {
        Instant late = T0.plus(Duration.ofDays(100));
        List<Function<Key, Transition<Key>>> moves = List.of(
                k -> k.activate(late, POLICY, "r"), k -> k.retire(late, POLICY, "w"),
                k -> k.revoke(late, POLICY, "x"), k -> k.destroy(late, "destroyed"));
        List<KeyState> targets = List.of(KeyState.ACTIVE, KeyState.RETIRED, KeyState.REVOKED, KeyState.DESTROYED);
        Key before = key(from);
        for (int i = 0; i < moves.size(); i++) {
            KeyState to = targets.get(i);
            Function<Key, Transition<Key>> move = moves.get(i);
            if (from.canMoveTo(to)) {
                assertThat(move.apply(before).value().state()).isEqualTo(to);
            } else {
                assertThatThrownBy(() -> move.apply(before))
                        .as(from + " -> " + to)
                        .isInstanceOf(IllegalTransitionException.class);
            }
        }
        assertThat(before).isEqualTo(key(from)); // values are immutable
    }

    @Test
    void requestsExpireAtExpiresAtNotASecondEarlier() {
        ActivationRequest open = request(ActivationState.OPEN);
        Instant expires = open.expiresAt();
        assertThat(open.expiryDue(expires.minusSeconds(1))).isFalse();
        assertThat(open.expiryDue(expires)).isTrue();
        assertThatThrownBy(() -> open.expire(expires.minusSeconds(1))).isInstanceOf(IllegalTransitionException.class);
        Transition<ActivationRequest> t = open.expire(expires);
        assertThat(t.value().state()).isEqualTo(ActivationState.EXPIRED);
        assertThat(t.value().decidedAt()).isEqualTo(expires);
        assertThat(t.change().action()).isEqualTo("activation.expired");
        assertThat(request(ActivationState.APPROVED).expiryDue(expires.plusSeconds(1)))
                .isFalse();
    }

    @Test
    void requestDecisionsAndExecution() {
        Instant now = T0.plusSeconds(60);
        Transition<ActivationRequest> approved = request(ActivationState.OPEN).approve(now, List.of("alice", "bob"));
        assertThat(approved.value().state()).isEqualTo(ActivationState.APPROVED);
        assertThat(approved.value().decidedAt()).isEqualTo(now);
        assertThat(approved.change().details()).containsEntry("approvedBy", List.of("alice", "bob"));
        Transition<ActivationRequest> executed = approved.value().execute(now.plusSeconds(5));
        assertThat(executed.value().state()).isEqualTo(ActivationState.EXECUTED);
        assertThat(executed.value().decidedAt()).isEqualTo(now);
        assertThat(executed.value().executedAt()).isEqualTo(now.plusSeconds(5));
        assertThat(executed.change()).isNull();
        Transition<ActivationRequest> rejected = request(ActivationState.OPEN).reject(now, "carol");
        assertThat(rejected.value().state()).isEqualTo(ActivationState.REJECTED);
        assertThat(rejected.change().details()).containsEntry("rejectedBy", "carol");
        Transition<ActivationRequest> cancelled =
                request(ActivationState.APPROVED).cancel(now, "key revoked");
        assertThat(cancelled.value().state()).isEqualTo(ActivationState.CANCELLED);
        assertThat(cancelled.change().announced()).isFalse();
        assertThatThrownBy(() -> request(ActivationState.EXECUTED).cancel(now, "late"))
                .isInstanceOf(IllegalTransitionException.class);
        assertThatThrownBy(() -> request(ActivationState.OPEN).execute(now))
                .isInstanceOf(IllegalTransitionException.class);
    }

    @Test
    void aCreatedKeyIsPendingUntilItsPublishLeadHasPassed() {
        Transition<Key> t = Key.create("kid-9", "acme", SigningAlgorithm.RS256, "default", "h9", "{}", T0, POLICY);
        assertThat(t.value().state()).isEqualTo(KeyState.PENDING);
        assertThat(t.value().createdAt()).isEqualTo(T0);
        assertThat(t.value().activatableAt())
                .isEqualTo(Deadlines.activatableAt(T0, POLICY))
                .isAfter(T0);
        assertThat(t.value().activatedAt()).isNull();
        assertThat(t.change().action()).isEqualTo("key.created");
        assertThat(t.change().kid()).isEqualTo("kid-9");
        assertThat(t.change().details()).containsEntry("algorithm", "RS256").containsEntry("partition", "default");
        assertThatThrownBy(() -> t.value().activate(t.value().activatableAt().minusNanos(1), POLICY, "r"))
                .isInstanceOf(IllegalTransitionException.class);
    }

    @Test
    void unpublishingIsRecordedOnlyForARetiredKeyPastVerifyUntilAndOnce() {
        Instant at = T0.plus(Duration.ofDays(10));
        Key retired = key(KeyState.ACTIVE).retire(at, POLICY, "successor").value();
        assertThatThrownBy(() -> retired.unpublish(retired.verifyUntil().minusNanos(1), POLICY))
                .isInstanceOf(IllegalTransitionException.class);
        Instant late = retired.verifyUntil().plus(Duration.ofHours(5));
        Transition<Key> t = retired.unpublish(late, POLICY);
        assertThat(t.value().state()).isEqualTo(KeyState.RETIRED);
        assertThat(t.value().unpublishedAt()).isEqualTo(late);
        assertThat(t.value().destroyAt())
                .as("destroyGrace counts from verifyUntil, not from a late sweep")
                .isEqualTo(retired.verifyUntil().plus(Duration.ofDays(7)));
        assertThat(t.change().action()).isEqualTo("key.unpublished");
        assertThatThrownBy(() -> t.value().unpublish(late, POLICY)).isInstanceOf(IllegalTransitionException.class);
        for (KeyState other : List.of(KeyState.PENDING, KeyState.ACTIVE, KeyState.REVOKED, KeyState.DESTROYED)) {
            assertThatThrownBy(() -> key(other).unpublish(late, POLICY)).isInstanceOf(IllegalTransitionException.class);
        }
    }

    @Test
    void aMissingHsmObjectIsRecordedOnceAndNeverForADestroyedKey() {
        Instant at = T0.plus(Duration.ofDays(3));
        Transition<Key> t = key(KeyState.ACTIVE).hsmMissing(at);
        assertThat(t.value().state()).isEqualTo(KeyState.ACTIVE);
        assertThat(t.value().hsmMissingAt()).isEqualTo(at);
        assertThat(t.change().action()).isEqualTo("key.hsm-missing");
        assertThat(t.change().details()).containsEntry("handle", "h1").containsEntry("state", "ACTIVE");
        assertThatThrownBy(() -> t.value().hsmMissing(at)).isInstanceOf(IllegalTransitionException.class);
        assertThatThrownBy(() -> key(KeyState.DESTROYED).hsmMissing(at)).isInstanceOf(IllegalTransitionException.class);
    }

    @Test
    void anOpenedRequestNeedsItsApprovalsBeforeItsTtlRunsOut() {
        UUID id = UUID.fromString("00000000-0000-0000-0000-000000000009");
        Transition<ActivationRequest> t = ActivationRequest.open(
                id, ActivationKind.KEY_ACTIVATION, "acme", "kid-1", "scheduler", 2, T0, Duration.ofDays(2));
        assertThat(t.value().state()).isEqualTo(ActivationState.OPEN);
        assertThat(t.value().expiresAt()).isEqualTo(T0.plus(Duration.ofDays(2)));
        assertThat(t.change().action()).isEqualTo("activation.requested");
        assertThat(t.change().details())
                .containsEntry("requestId", id.toString())
                .containsEntry("approvalsRequired", 2)
                .containsEntry("kind", "KEY_ACTIVATION");
        assertThat(t.value().expiryDue(T0.plus(Duration.ofDays(2)).minusNanos(1)))
                .isFalse();
        assertThat(t.value().expiryDue(T0.plus(Duration.ofDays(2)))).isTrue();
        assertThatThrownBy(() -> ActivationRequest.open(
                        id, ActivationKind.KEY_ACTIVATION, "acme", null, "s", 2, T0, Duration.ofDays(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ActivationRequest.open(
                        id, ActivationKind.POLICY_CHANGE, "acme", "kid-1", "s", 2, T0, Duration.ofDays(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ActivationRequest.open(
                        id, ActivationKind.POLICY_CHANGE, "acme", null, "s", 0, T0, Duration.ofDays(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ActivationRequest.open(
                        id, ActivationKind.POLICY_CHANGE, "acme", null, "s", 2, T0, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
