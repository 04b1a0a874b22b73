package dev.keyhold.domain;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Every deadline of a key, as pure functions of (key, policy, now). Use-time checks (signing, JWKS) and the
 * scheduler both ask here, so a late or dead scheduler cannot stretch a key's life (SPEC invariant 5).
 *
 * <p>The timeline of one key, with the defaults of a new issuer in brackets:
 * <pre>
 *  createdAt ── publishLead ──▶ activatableAt   (PENDING, published, cannot sign)
 *  activatedAt ─┬─ prepareAt: the successor is generated and its activation request opened   [day 27]
 *               ├─ rotationDue = activatedAt + rotationPeriod; still ACTIVE past it = overdue  [day 30]
 *               └─ notAfter    = activatedAt + activeDeadline; retired even with no successor  [day 45]
 *  retiredAt ── tokenTtl ──▶ verifyUntil (leaves the JWKS) ── destroyGrace ──▶ destroyAt (HSM object destroyed)
 * </pre>
 * A boundary instant belongs to the later phase: at {@code notAfter} exactly a key no longer signs, at
 * {@code prepareAt} exactly the next key is due, and so on ("due" means {@code !now.isBefore(deadline)}).
 */
public final class Deadlines {

    private Deadlines() {}

    public static Instant activatableAt(Instant createdAt, IssuerPolicy p) {
        return createdAt.plus(p.publishLead());
    }

    public static Instant notAfter(Instant activatedAt, IssuerPolicy p) {
        return activatedAt.plus(p.activeDeadline());
    }

    public static Instant rotationDue(Instant activatedAt, IssuerPolicy p) {
        return activatedAt.plus(p.rotationPeriod());
    }

    /**
     * How long before {@link #rotationDue} the next key is prepared:
     * {@code publishLead + min(approvalTtl, (rotationPeriod - publishLead) / 2)}.
     *
     * <p>Why: the successor must have been in the JWKS for {@code publishLead} before it may sign, and custodians
     * need time to decide. With this lead a key prepared on time is activatable {@code min(approvalTtl, slack/2)}
     * before the cadence ends, so custodians get a whole approval window (the request's own lifetime,
     * {@code approvalTtl}) without the rotation becoming overdue. The halving cap (after SPIRE, which prepares at
     * {@code notAfter - min(life/2, 30d)}) keeps a short cadence from preparing the successor right after the
     * current key activated, which would leave a published key idle for most of the cadence: the successor is
     * never prepared before half of {@code rotationPeriod - publishLead} has passed. Defaults (30 d, 1 d lead,
     * 2 d approval): prepared on day 27, activatable on day 28, due on day 30. A policy whose publishLead is
     * not below rotationPeriod is refused when written; the lead is clamped to the cadence regardless.
     */
    public static Duration prepareLead(IssuerPolicy p) {
        Duration slack = p.rotationPeriod().minus(p.publishLead());
        if (slack.isNegative()) {
            return p.rotationPeriod();
        }
        Duration window = p.approvalTtl().compareTo(slack.dividedBy(2)) < 0 ? p.approvalTtl() : slack.dividedBy(2);
        return p.publishLead().plus(window);
    }

    /** When the successor of a key activated at {@code activatedAt} is prepared. See {@link #prepareLead}. */
    public static Instant prepareAt(Instant activatedAt, IssuerPolicy p) {
        return rotationDue(activatedAt, p).minus(prepareLead(p));
    }

    /**
     * When the next key is due to be prepared, from the issuer's ACTIVE and PENDING keys (either may be null): empty
     * while a PENDING key exists; {@link Instant#EPOCH} ("at once") when there is no usable ACTIVE key (a new issuer;
     * one whose key was retired at its deadline or revoked; an ACTIVE key whose HSM object is missing); else the
     * active key's {@link #prepareAt}.
     */
    public static Optional<Instant> prepareDueAt(Key active, Key pending, IssuerPolicy p) {
        if (pending != null) {
            return Optional.empty();
        }
        return Optional.of(
                active == null || active.hsmMissingAt() != null ? Instant.EPOCH : prepareAt(active.activatedAt(), p));
    }

    /** True when the next key should be prepared now; see {@link #prepareDueAt}. */
    public static boolean shouldPrepare(Key active, Key pending, IssuerPolicy p, Instant now) {
        return reached(prepareDueAt(active, pending, p), now);
    }

    /** When an ACTIVE key's cadence ends (its {@link #rotationDue}); empty for any other key. */
    public static Optional<Instant> overdueAt(Key k, IssuerPolicy p) {
        return k != null && k.state() == KeyState.ACTIVE && k.activatedAt() != null
                ? Optional.of(rotationDue(k.activatedAt(), p))
                : Optional.empty();
    }

    /** True when an ACTIVE key is still signing at or past its rotationDue (the cadence has ended). */
    public static boolean overdue(Key k, IssuerPolicy p, Instant now) {
        return reached(overdueAt(k, p), now);
    }

    /** When an ACTIVE key must be retired, successor or not (its notAfter); empty for any other key. */
    public static Optional<Instant> retireDueAt(Key k) {
        return k.state() == KeyState.ACTIVE ? Optional.ofNullable(k.notAfter()) : Optional.empty();
    }

    /** True when an ACTIVE key has reached notAfter and must be retired, successor or not. */
    public static boolean pastDeadline(Key k, Instant now) {
        return reached(retireDueAt(k), now);
    }

    /** When a RETIRED key not yet marked unpublished left the JWKS (its verifyUntil); empty otherwise. */
    public static Optional<Instant> unpublishDueAt(Key k) {
        return k.state() == KeyState.RETIRED && k.unpublishedAt() == null
                ? Optional.ofNullable(k.verifyUntil())
                : Optional.empty();
    }

    /** True when a RETIRED key has left the JWKS (at verifyUntil) but is not yet marked unpublished. */
    public static boolean unpublishDue(Key k, Instant now) {
        return reached(unpublishDueAt(k), now);
    }

    /** When a RETIRED or REVOKED key's HSM object must be destroyed (its destroyAt); empty otherwise. */
    public static Optional<Instant> destroyDueAt(Key k) {
        return k.state() == KeyState.RETIRED || k.state() == KeyState.REVOKED
                ? Optional.ofNullable(k.destroyAt())
                : Optional.empty();
    }

    /** True when a RETIRED or REVOKED key's HSM object must be destroyed. */
    public static boolean destroyDue(Key k, Instant now) {
        return reached(destroyDueAt(k), now);
    }

    /** A deadline is reached at its instant exactly (the boundary belongs to the later phase). */
    private static boolean reached(Optional<Instant> deadline, Instant now) {
        return deadline.map(d -> !now.isBefore(d)).orElse(false);
    }

    public static Instant verifyUntil(Instant retiredAt, IssuerPolicy p) {
        return retiredAt.plus(p.tokenTtl());
    }

    /** For a RETIRED key {@code leftJwksAt} is its verifyUntil; for a REVOKED key its revokedAt. */
    public static Instant destroyAt(Instant leftJwksAt, IssuerPolicy p) {
        return leftJwksAt.plus(p.destroyGrace());
    }

    /** True when the key may sign at {@code now}: ACTIVE, before notAfter, and its HSM object not known missing. */
    public static boolean canSign(Key k, Instant now) {
        return k.state() == KeyState.ACTIVE
                && k.notAfter() != null
                && now.isBefore(k.notAfter())
                && k.hsmMissingAt() == null;
    }

    /**
     * Until when the key belongs in its issuer's JWKS: empty when it never (or no longer) does; {@link Instant#MAX}
     * when open-ended. An ACTIVE key left past notAfter by a late scheduler counts as retired at notAfter.
     */
    public static Optional<Instant> publishedUntil(Key k, IssuerPolicy p) {
        return switch (k.state()) {
            case PENDING -> Optional.of(Instant.MAX);
            case ACTIVE -> Optional.of(k.notAfter() == null ? Instant.MAX : verifyUntil(k.notAfter(), p));
            case RETIRED -> Optional.ofNullable(k.verifyUntil());
            case REVOKED, DESTROYED -> Optional.empty();
        };
    }

    public static boolean publishable(Key k, IssuerPolicy p, Instant now) {
        return publishedUntil(k, p).map(now::isBefore).orElse(false);
    }
}
