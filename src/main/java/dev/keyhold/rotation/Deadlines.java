package dev.keyhold.rotation;

import dev.keyhold.issuer.IssuerPolicy;
import dev.keyhold.key.Key;
import dev.keyhold.key.KeyState;

import java.time.Instant;
import java.util.Optional;

/**
 * Every deadline of a key, as pure functions of (key, policy, now). Use-time checks (signing, JWKS) and the
 * scheduler both ask here, so a late or dead scheduler cannot stretch a key's life (SPEC invariant 5).
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

    public static Instant verifyUntil(Instant retiredAt, IssuerPolicy p) {
        return retiredAt.plus(p.tokenTtl());
    }

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
