package dev.keyhold.validator;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads an issuer from Keyhold's public documents: {@code /issuers/{id}/.well-known/jwks.json} (the key material)
 * and {@code /issuers/{id}/.well-known/keyhold-issuer.json} (its {@code iss}, status, and every kid it ever had with
 * its state and the instant it leaves the JWKS). Both are revalidated with {@code If-None-Match}.
 *
 * <p>A JWK is trusted only when the issuer's own status document lists its kid in a published state and the kid is
 * the RFC 7638 thumbprint of the key, so a JWKS that names another issuer's kid, or a kid that does not match its
 * key, contributes nothing.
 */
final class HttpIssuerSource implements IssuerSource {

    private static final Pattern MAX_AGE = Pattern.compile("(?:^|[,\\s])max-age\\s*=\\s*\"?(\\d+)");

    private final URI base;
    private final HttpClient http;
    private final Duration timeout;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    private record Doc(String etag, String body) {}

    private record Cached(Doc jwks, Doc status, Duration maxAge) {}

    HttpIssuerSource(URI base, HttpClient http, Duration timeout) {
        this.base = base;
        this.http = http;
        this.timeout = timeout;
    }

    @Override
    public IssuerSnapshot load(String issuerId, IssuerSnapshot previous) throws IOException, InterruptedException {
        Cached before = previous == null ? null : cache.get(issuerId);
        // The JWKS first: the status document read after it lists every kid the JWKS can hold.
        Fetched jwks = fetch("/issuers/" + issuerId + "/.well-known/jwks.json", before == null ? null : before.jwks());
        Fetched status = fetch(
                "/issuers/" + issuerId + "/.well-known/keyhold-issuer.json", before == null ? null : before.status());
        Duration maxAge = jwks.maxAge() != null ? jwks.maxAge() : before == null ? null : before.maxAge();
        if (before != null
                && jwks.doc() == before.jwks()
                && status.doc() == before.status()
                && previous != null
                && java.util.Objects.equals(maxAge, previous.maxAge())) {
            return previous;
        }
        Cached now = new Cached(jwks.doc(), status.doc(), maxAge);
        IssuerSnapshot s;
        try {
            s = snapshot(issuerId, now);
        } catch (RuntimeException e) {
            throw new IOException("unreadable documents of issuer " + issuerId + ": " + e, e);
        }
        cache.put(issuerId, now);
        return s;
    }

    private record Fetched(Doc doc, Duration maxAge) {}

    private Fetched fetch(String path, Doc previous) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path))
                .timeout(timeout)
                .GET()
                .header("Accept", "application/json");
        if (previous != null && previous.etag() != null) {
            b.header("If-None-Match", previous.etag());
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        Duration maxAge = r.headers()
                .firstValue("Cache-Control")
                .flatMap(HttpIssuerSource::maxAge)
                .orElse(null);
        if (r.statusCode() == 304 && previous != null) {
            return new Fetched(previous, maxAge);
        }
        if (r.statusCode() != 200) {
            throw new IOException("GET " + path + " answered " + r.statusCode());
        }
        return new Fetched(new Doc(r.headers().firstValue("ETag").orElse(null), r.body()), maxAge);
    }

    static Optional<Duration> maxAge(String cacheControl) {
        Matcher m = MAX_AGE.matcher(cacheControl.toLowerCase(java.util.Locale.ROOT));
        return m.find() ? Optional.of(Duration.ofSeconds(Long.parseLong(m.group(1)))) : Optional.empty();
    }

    private static IssuerSnapshot snapshot(String issuerId, Cached c) throws IOException {
        Map<String, Object> status;
        JWKSet set;
        try {
            status = asMap(StrictJson.parse(c.status().body()));
            set = JWKSet.parse(c.jwks().body());
        } catch (IllegalArgumentException | java.text.ParseException | ClassCastException e) {
            throw new IOException("unreadable documents of issuer " + issuerId + ": " + e.getMessage(), e);
        }
        if (!issuerId.equals(status.get("id")) || !(status.get("issuerUri") instanceof String uri)) {
            throw new IOException("the status document of issuer " + issuerId + " names another issuer");
        }
        Map<String, Instant> published = new HashMap<>();
        Map<String, Boolean> bound = new HashMap<>();
        for (Object o : (List<?>) status.getOrDefault("keys", List.of())) {
            Map<String, Object> k = asMap(o);
            if (!(k.get("kid") instanceof String kid)) {
                continue;
            }
            bound.put(kid, true);
            Object state = k.get("state");
            if ("PENDING".equals(state) || "ACTIVE".equals(state) || "RETIRED".equals(state)) {
                Object until = k.get("publishedUntil");
                published.put(kid, until instanceof String u ? Instant.parse(u) : Instant.MAX);
            }
        }
        Map<String, IssuerSnapshot.TrustedKey> keys = new HashMap<>();
        for (JWK jwk : set.getKeys()) {
            String kid = jwk.getKeyID();
            Instant until = kid == null ? null : published.get(kid);
            if (until == null || jwk.isPrivate() || jwk.getAlgorithm() == null || !thumbprintIs(jwk, kid)) {
                continue;
            }
            keys.put(kid, new IssuerSnapshot.TrustedKey(jwk, until == Instant.MAX ? null : until));
        }
        String version = c.jwks().etag() + "|" + c.status().etag();
        return new IssuerSnapshot(
                issuerId, uri, "SUSPENDED".equals(status.get("status")), keys, bound.keySet(), c.maxAge(), version);
    }

    private static boolean thumbprintIs(JWK jwk, String kid) {
        try {
            return jwk.computeThumbprint().toString().equals(kid);
        } catch (Exception e) {
            return false;
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object o) {
        if (!(o instanceof Map)) {
            throw new IllegalArgumentException("JSON object expected");
        }
        return (Map<String, Object>) o;
    }
}
