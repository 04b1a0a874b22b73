package dev.keyhold.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.domain.Deadlines;
import dev.keyhold.domain.IssuerPolicy;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import dev.keyhold.domain.SigningAlgorithm;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Every deadline at one second before and after its boundary (and at it: a boundary belongs to the later phase). */
class DeadlinesTest {

    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    static final Duration S = Duration.ofSeconds(1);

    /** Defaults of a new issuer: 30 d cadence, 1 d lead, 1 h tokens, 45 d deadline, 7 d grace, 2 d approval. */
    static final IssuerPolicy DEFAULTS = new IssuerPolicy(
            Duration.ofDays(30),
            Duration.ofDays(1),
            Duration.ofHours(1),
            Duration.ofDays(45),
            Duration.ofDays(7),
            Duration.ofDays(2));
    /** The scenario's short policy: 4 h cadence, 2 h lead, approval window capped by half the 2 h slack. */
    static final IssuerPolicy SHORT = new IssuerPolicy(
            Duration.ofHours(4),
            Duration.ofHours(2),
            Duration.ofHours(1),
            Duration.ofHours(6),
            Duration.ofHours(1),
            Duration.ofDays(2));

    static Key key(
            KeyState state,
            Instant activatedAt,
            Instant notAfter,
            Instant retiredAt,
            Instant verifyUntil,
            Instant unpublishedAt,
            Instant destroyAt,
            Instant hsmMissingAt) {
        return new Key(
                "kid-" + state,
                "iss",
                SigningAlgorithm.ES256,
                "default",
                "kh-iss-0",
                "{}",
                state,
                T0,
                T0.plus(Duration.ofDays(1)),
                activatedAt,
                notAfter,
                retiredAt,
                verifyUntil,
                unpublishedAt,
                destroyAt,
                null,
                null,
                null,
                hsmMissingAt);
    }

    static Key active(Instant activatedAt, IssuerPolicy p) {
        return key(KeyState.ACTIVE, activatedAt, Deadlines.notAfter(activatedAt, p), null, null, null, null, null);
    }

    @Test
    void prepareLeadIsPublishLeadPlusTheApprovalWindowCappedAtHalfTheSlack() {
        assertThat(Deadlines.prepareLead(DEFAULTS)).isEqualTo(Duration.ofDays(3));
        assertThat(Deadlines.prepareAt(T0, DEFAULTS)).isEqualTo(T0.plus(Duration.ofDays(27)));
        // slack 2 h: window min(2 d, 1 h) = 1 h
        assertThat(Deadlines.prepareLead(SHORT)).isEqualTo(Duration.ofHours(3));
        assertThat(Deadlines.prepareAt(T0, SHORT)).isEqualTo(T0.plus(Duration.ofHours(1)));
        // odd slack: half a second is kept exactly (the SQL twin computes in numeric seconds too)
        IssuerPolicy odd = new IssuerPolicy(
                Duration.ofSeconds(7201),
                Duration.ofHours(1),
                Duration.ofMinutes(5),
                Duration.ofHours(3),
                Duration.ZERO,
                Duration.ofDays(1));
        assertThat(Deadlines.prepareAt(T0, odd)).isEqualTo(T0.plusMillis(1_800_500));
    }

    @Test
    void aKeyPreparedOnTimeIsPublishedForPublishLeadAndLeavesAnApprovalWindowBeforeTheCadenceEnds() {
        for (IssuerPolicy p : new IssuerPolicy[] {DEFAULTS, SHORT}) {
            Instant prepared = Deadlines.prepareAt(T0, p);
            Instant activatable = Deadlines.activatableAt(prepared, p);
            Instant due = Deadlines.rotationDue(T0, p);
            assertThat(Duration.between(prepared, activatable)).isEqualTo(p.publishLead());
            assertThat(activatable).isBefore(due);
            assertThat(prepared).isAfter(T0);
        }
    }

    @Test
    void prepareBoundary() {
        Key a = active(T0, DEFAULTS);
        Instant at = Deadlines.prepareAt(T0, DEFAULTS);
        assertThat(Deadlines.shouldPrepare(a, null, DEFAULTS, at.minus(S))).isFalse();
        assertThat(Deadlines.shouldPrepare(a, null, DEFAULTS, at)).isTrue();
        assertThat(Deadlines.shouldPrepare(a, null, DEFAULTS, at.plus(S))).isTrue();
        Key pending = key(KeyState.PENDING, null, null, null, null, null, null, null);
        assertThat(Deadlines.shouldPrepare(a, pending, DEFAULTS, at.plus(S)))
                .as("a pending key already exists")
                .isFalse();
    }

    @Test
    void withNoActiveAndNoPendingKeyTheNextKeyIsDueAtOnce() {
        assertThat(Deadlines.shouldPrepare(null, null, DEFAULTS, T0)).isTrue();
        Key pending = key(KeyState.PENDING, null, null, null, null, null, null, null);
        assertThat(Deadlines.shouldPrepare(null, pending, DEFAULTS, T0)).isFalse();
        Key missing = key(KeyState.ACTIVE, T0, Deadlines.notAfter(T0, DEFAULTS), null, null, null, null, T0);
        assertThat(Deadlines.shouldPrepare(missing, null, DEFAULTS, T0.plus(S)))
                .as("active key lost its HSM object")
                .isTrue();
    }

    @Test
    void overdueBoundary() {
        Key a = active(T0, DEFAULTS);
        Instant due = T0.plus(Duration.ofDays(30));
        assertThat(Deadlines.overdue(a, DEFAULTS, due.minus(S))).isFalse();
        assertThat(Deadlines.overdue(a, DEFAULTS, due)).isTrue();
        assertThat(Deadlines.overdue(a, DEFAULTS, due.plus(S))).isTrue();
        Key retired = key(KeyState.RETIRED, T0, due, due, due, null, null, null);
        assertThat(Deadlines.overdue(retired, DEFAULTS, due.plus(S))).isFalse();
        assertThat(Deadlines.overdue(null, DEFAULTS, due.plus(S))).isFalse();
    }

    @Test
    void notAfterBoundaryForSigningAndRetirement() {
        Key a = active(T0, DEFAULTS);
        Instant notAfter = T0.plus(Duration.ofDays(45));
        assertThat(a.notAfter()).isEqualTo(notAfter);
        assertThat(Deadlines.canSign(a, notAfter.minus(S))).isTrue();
        assertThat(Deadlines.pastDeadline(a, notAfter.minus(S))).isFalse();
        assertThat(Deadlines.canSign(a, notAfter)).isFalse();
        assertThat(Deadlines.pastDeadline(a, notAfter)).isTrue();
        assertThat(Deadlines.canSign(a, notAfter.plus(S))).isFalse();
        assertThat(Deadlines.pastDeadline(a, notAfter.plus(S))).isTrue();
    }

    @Test
    void aKeyWhoseHsmObjectIsMissingNeverSigns() {
        Key a = key(KeyState.ACTIVE, T0, T0.plus(Duration.ofDays(45)), null, null, null, null, T0.plus(S));
        assertThat(Deadlines.canSign(a, T0.plus(Duration.ofDays(1)))).isFalse();
    }

    @Test
    void verifyUntilBoundaryForPublicationAndUnpublishing() {
        Instant retired = T0.plus(Duration.ofDays(29));
        Instant verifyUntil = Deadlines.verifyUntil(retired, DEFAULTS);
        assertThat(verifyUntil).isEqualTo(retired.plus(Duration.ofHours(1)));
        Key r = key(KeyState.RETIRED, T0, T0.plus(Duration.ofDays(45)), retired, verifyUntil, null, null, null);
        assertThat(Deadlines.publishable(r, DEFAULTS, verifyUntil.minus(S))).isTrue();
        assertThat(Deadlines.unpublishDue(r, verifyUntil.minus(S))).isFalse();
        assertThat(Deadlines.publishable(r, DEFAULTS, verifyUntil)).isFalse();
        assertThat(Deadlines.unpublishDue(r, verifyUntil)).isTrue();
        assertThat(Deadlines.publishable(r, DEFAULTS, verifyUntil.plus(S))).isFalse();
        assertThat(Deadlines.unpublishDue(r, verifyUntil.plus(S))).isTrue();
        Key done =
                key(KeyState.RETIRED, T0, T0.plus(Duration.ofDays(45)), retired, verifyUntil, verifyUntil, null, null);
        assertThat(Deadlines.unpublishDue(done, verifyUntil.plus(S)))
                .as("already unpublished")
                .isFalse();
    }

    @Test
    void anActiveKeyALateSchedulerNeverRetiredLeavesTheJwksAtNotAfterPlusTokenTtl() {
        Key a = active(T0, DEFAULTS);
        Instant gone = a.notAfter().plus(DEFAULTS.tokenTtl());
        assertThat(Deadlines.publishable(a, DEFAULTS, gone.minus(S))).isTrue();
        assertThat(Deadlines.publishable(a, DEFAULTS, gone)).isFalse();
        assertThat(Deadlines.publishable(a, DEFAULTS, gone.plus(S))).isFalse();
    }

    @Test
    void destroyAtBoundary() {
        Instant verifyUntil = T0.plus(Duration.ofDays(30));
        Instant destroyAt = Deadlines.destroyAt(verifyUntil, DEFAULTS);
        assertThat(destroyAt).isEqualTo(verifyUntil.plus(Duration.ofDays(7)));
        Key r = key(KeyState.RETIRED, T0, T0, T0, verifyUntil, verifyUntil, destroyAt, null);
        assertThat(Deadlines.destroyDue(r, destroyAt.minus(S))).isFalse();
        assertThat(Deadlines.destroyDue(r, destroyAt)).isTrue();
        assertThat(Deadlines.destroyDue(r, destroyAt.plus(S))).isTrue();
        Key notYetUnpublished = key(KeyState.RETIRED, T0, T0, T0, verifyUntil, null, null, null);
        assertThat(Deadlines.destroyDue(notYetUnpublished, destroyAt.plus(S)))
                .as("destroyAt is set at unpublishing")
                .isFalse();
        Key revoked = new Key(
                "k",
                "iss",
                SigningAlgorithm.ES256,
                "default",
                "h",
                "{}",
                KeyState.REVOKED,
                T0,
                T0,
                null,
                null,
                null,
                null,
                null,
                destroyAt,
                null,
                T0,
                "why",
                null);
        assertThat(Deadlines.destroyDue(revoked, destroyAt.minus(S))).isFalse();
        assertThat(Deadlines.destroyDue(revoked, destroyAt)).isTrue();
        assertThat(Deadlines.publishable(revoked, DEFAULTS, T0))
                .as("revoked keys are out at once")
                .isFalse();
    }

    @Test
    void activatableBoundary() {
        Instant activatable = Deadlines.activatableAt(T0, DEFAULTS);
        assertThat(activatable).isEqualTo(T0.plus(Duration.ofDays(1)));
    }
}
