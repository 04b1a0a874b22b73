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

    private Deadlines() {
    }

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
     * The same moment as {@link #prepareAt}, as SQL over {@code signing_key k join issuer i}, for the sweeper's
     * query of issuers with something due. It must stay equal to {@link #prepareAt}:
     * {@code activatedAt + max(slack - approvalTtl, slack / 2)} with {@code slack = rotationPeriod - publishLead}
     * (SweeperTest checks both at one second either side of the boundary).
     */
    public static final String SQL_PREPARE_AT = "k.activated_at + greatest(i.rotation_period_s - i.publish_lead_s"
            + " - i.approval_ttl_s, (i.rotation_period_s - i.publish_lead_s) / 2.0) * interval '1 second'";

    /** {@link #rotationDue} as SQL over {@code signing_key k join issuer i}. */
    public static final String SQL_ROTATION_DUE = "k.activated_at + i.rotation_period_s * interval '1 second'";

    /**
     * True when the next key should be prepared now: there is no PENDING key, and either no usable ACTIVE key (a
     * new issuer; one whose key was retired at its deadline or revoked; an ACTIVE key whose HSM object is missing)
     * or the active key's prepareAt has come.
     */
    public static boolean shouldPrepare(Key active, Key pending, IssuerPolicy p, Instant now) {
        if (pending != null) {
            return false;
        }
        return active == null || active.hsmMissingAt() != null || !now.isBefore(prepareAt(active.activatedAt(), p));
    }

    /** True when an ACTIVE key is still signing at or past its rotationDue (the cadence has ended). */
    public static boolean overdue(Key k, IssuerPolicy p, Instant now) {
        return k != null && k.state() == KeyState.ACTIVE && k.activatedAt() != null
                && !now.isBefore(rotationDue(k.activatedAt(), p));
    }

    /** True when an ACTIVE key has reached notAfter and must be retired, successor or not. */
    public static boolean pastDeadline(Key k, Instant now) {
        return k.state() == KeyState.ACTIVE && k.notAfter() != null && !now.isBefore(k.notAfter());
    }

    /** True when a RETIRED key has left the JWKS (at verifyUntil) but is not yet marked unpublished. */
    public static boolean unpublishDue(Key k, Instant now) {
        return k.state() == KeyState.RETIRED && k.unpublishedAt() == null && k.verifyUntil() != null
                && !now.isBefore(k.verifyUntil());
    }

    /** True when a RETIRED or REVOKED key's HSM object must be destroyed. */
    public static boolean destroyDue(Key k, Instant now) {
        return (k.state() == KeyState.RETIRED || k.state() == KeyState.REVOKED) && k.destroyAt() != null
                && !now.isBefore(k.destroyAt());
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
        return k.state() == KeyState.ACTIVE && k.notAfter() != null && now.isBefore(k.notAfter())
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
