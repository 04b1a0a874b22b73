package dev.keyhold.validator;

import com.nimbusds.jose.jwk.JWK;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * What a validator knows about one issuer at one moment: its {@code iss}, whether it is suspended, the keys it may
 * verify with now, and every kid that has ever belonged to it (so a kid of this issuer that is no longer usable is
 * told apart from a kid that never was its: {@code key_not_usable} versus {@code kid_not_bound_to_issuer}).
 *
 * @param issuerId   Keyhold's id of the issuer
 * @param issuerUri  the exact {@code iss} its tokens carry
 * @param suspended  true while the issuer's kill switch is pulled
 * @param keys       the issuer's published keys by kid, each with the instant it stops being usable
 * @param boundKids  every kid of this issuer, usable or not
 * @param maxAge     the JWKS {@code Cache-Control: max-age} the server sent (null if none)
 * @param version    an opaque validator of this snapshot (e.g. the ETags it was built from)
 * @param validUntil the instant this snapshot must no longer be used (a trust bundle's exp): past it, and until a
 *                   newer one is loaded, the issuer's tokens are {@code stale}; null when it has no end
 */
public record IssuerSnapshot(
        String issuerId,
        String issuerUri,
        boolean suspended,
        Map<String, TrustedKey> keys,
        Set<String> boundKids,
        Duration maxAge,
        String version,
        Instant validUntil) {

    public IssuerSnapshot {
        keys = Map.copyOf(keys);
        boundKids = Set.copyOf(boundKids);
    }

    /** A snapshot with no end of validity (the bare JWKS and status documents). */
    public IssuerSnapshot(
            String issuerId,
            String issuerUri,
            boolean suspended,
            Map<String, TrustedKey> keys,
            Set<String> boundKids,
            Duration maxAge,
            String version) {
        this(issuerId, issuerUri, suspended, keys, boundKids, maxAge, version, null);
    }

    /**
     * A published key of the issuer.
     *
     * @param jwk         the public JWK as the issuer's JWKS publishes it
     * @param usableUntil the instant it leaves the JWKS (a retired key's verifyUntil), or null when no end is set
     */
    public record TrustedKey(JWK jwk, Instant usableUntil) {}
}
