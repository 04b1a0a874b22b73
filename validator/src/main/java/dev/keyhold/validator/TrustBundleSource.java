package dev.keyhold.validator;

import com.nimbusds.jose.jwk.JWK;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Loads an issuer from its signed trust bundle ({@code GET /issuers/{id}/trust-bundle}, revalidated with
 * {@code If-None-Match}) instead of the bare JWKS: used when the validator is given a trust anchor. Each bundle is
 * checked by a {@link TrustBundleVerifier}; a refused one is reported through {@link #status} and leaves the last
 * accepted bundle in force until its {@code exp}. A JWK is trusted only when its kid is its RFC 7638 thumbprint.
 */
final class TrustBundleSource implements IssuerSource {

    private final URI base;
    private final HttpClient http;
    private final Duration timeout;
    private final Clock clock;
    private final TrustBundleVerifier verifier;
    private final Map<String, String> etags = new ConcurrentHashMap<>();
    private final Map<String, TrustBundleStatus> refusals = new ConcurrentHashMap<>();

    TrustBundleSource(URI base, HttpClient http, Duration timeout, Clock clock, TrustBundleVerifier verifier) {
        this.base = base;
        this.http = http;
        this.timeout = timeout;
        this.clock = clock;
        this.verifier = verifier;
    }

    @Override
    public IssuerSnapshot load(String issuerId, IssuerSnapshot previous) throws IOException, InterruptedException {
        String path = "/issuers/" + issuerId + "/trust-bundle";
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path.substring(1)))
                .timeout(timeout)
                .GET()
                .header("Accept", "application/jwt, application/jose+json");
        TrustBundleVerifier.Accepted held = verifier.last(issuerId);
        // A held bundle past its exp is fetched whole and judged again: a 304 must not extend a frozen bundle.
        boolean heldExpired = held != null && !clock.instant().isBefore(held.exp());
        String etag = previous == null || heldExpired ? null : etags.get(issuerId);
        if (etag != null) {
            b.header("If-None-Match", etag);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.US_ASCII));
        if (r.statusCode() == 304 && previous != null) {
            return previous;
        }
        if (r.statusCode() != 200) {
            throw new IOException("GET " + path + " answered " + r.statusCode());
        }
        TrustBundleVerifier.Accepted a;
        try {
            a = verifier.accept(issuerId, r.body().trim());
        } catch (TrustBundleVerifier.Refused refused) {
            refusals.put(
                    issuerId,
                    new TrustBundleStatus(
                            issuerId, 0, null, List.of(), refused.reason, refused.getMessage(), clock.instant()));
            throw refused;
        }
        refusals.remove(issuerId);
        IssuerSnapshot s;
        try {
            s = snapshot(issuerId, a, r.headers().firstValue("ETag").orElse(null));
        } catch (RuntimeException e) {
            throw new IOException("unreadable trust bundle of issuer " + issuerId + ": " + e, e);
        }
        r.headers().firstValue("ETag").ifPresentOrElse(t -> etags.put(issuerId, t), () -> etags.remove(issuerId));
        return s;
    }

    /** The issuer's bundle state as this source sees it. */
    TrustBundleStatus status(String issuerId) {
        TrustBundleVerifier.Accepted a = verifier.last(issuerId);
        TrustBundleStatus refused = refusals.get(issuerId);
        List<String> anchors = verifier.anchors().stream().map(JWK::getKeyID).toList();
        return new TrustBundleStatus(
                issuerId,
                a == null ? 0 : a.sequence(),
                a == null ? null : a.exp(),
                anchors,
                refused == null ? null : refused.lastRefusal(),
                refused == null ? null : refused.refusalDetail(),
                refused == null ? null : refused.refusedAt());
    }

    private static IssuerSnapshot snapshot(String issuerId, TrustBundleVerifier.Accepted a, String etag)
            throws IOException {
        Map<String, Object> p = a.payload();
        List<?> keys;
        try {
            keys = (List<?>)
                    com.nimbusds.jose.util.JSONObjectUtils.parse(a.json()).get("keys");
        } catch (java.text.ParseException | ClassCastException e) {
            keys = null;
        }
        if (!(p.get("issuerUri") instanceof String uri) || keys == null) {
            throw new IOException("the trust bundle of issuer " + issuerId + " has no issuerUri or keys");
        }
        Map<String, IssuerSnapshot.TrustedKey> trusted = new HashMap<>();
        Set<String> bound = new HashSet<>();
        for (Object o : keys) {
            JWK jwk;
            try {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) o;
                jwk = JWK.parse(m);
            } catch (java.text.ParseException | ClassCastException e) {
                continue;
            }
            String kid = jwk.getKeyID();
            if (kid == null || jwk.isPrivate() || jwk.getAlgorithm() == null || !thumbprintIs(jwk, kid)) {
                continue;
            }
            bound.add(kid);
            trusted.put(kid, new IssuerSnapshot.TrustedKey(jwk, null));
        }
        if (p.get("revoked") instanceof List<?> revoked) {
            for (Object o : revoked) {
                if (o instanceof Map<?, ?> m && m.get("kid") instanceof String kid) {
                    bound.add(kid);
                    trusted.remove(kid);
                }
            }
        }
        Duration refresh = p.get("refreshHint") instanceof BigInteger h ? Duration.ofSeconds(h.longValue()) : null;
        return new IssuerSnapshot(
                issuerId,
                uri,
                "SUSPENDED".equals(p.get("status")),
                trusted,
                bound,
                refresh,
                etag + "|" + a.sequence() + "|" + a.exp(),
                a.exp());
    }

    private static boolean thumbprintIs(JWK jwk, String kid) {
        try {
            return jwk.computeThumbprint().toString().equals(kid);
        } catch (Exception e) {
            return false;
        }
    }
}
