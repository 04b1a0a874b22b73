package dev.keyhold.trust;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import dev.keyhold.issuer.Issuer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * What a trust bundle says about an issuer, as a pure function of its recorded state (never of the time): the same
 * state always gives the same bytes. {@code keys} are the keys the recorded states publish: PENDING, ACTIVE, and
 * RETIRED until the sweep records them unpublished (the JWKS drops a RETIRED key at verifyUntil by the clock; the
 * bundle follows the recorded step). {@code algorithms} is the issuer's algorithm plus those of the published keys.
 */
public final class BundleContent {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The payload fields decided in the transaction; iat, exp and previous are added when it is signed. */
    public record Content(Map<String, Object> payload, String digest) {

        public String canonical() {
            return Jcs.canonicalize(payload);
        }
    }

    private BundleContent() {}

    /** {@code keys} of the issuer in JWKS order (newest first). */
    public static Content of(Issuer issuer, List<Key> keys, long refreshHintSeconds, long sequence, Long rollbackOf) {
        List<Object> published = new ArrayList<>();
        TreeSet<String> algorithms = new TreeSet<>();
        algorithms.add(issuer.algorithm().name());
        for (Key k : keys) {
            if (!k.issuerId().equals(issuer.id())) {
                throw new IllegalStateException(
                        "key " + k.kid() + " of issuer " + k.issuerId() + " offered for " + issuer.id());
            }
            if (published(k)) {
                published.add(parse(k.publicJwk()));
                algorithms.add(k.algorithm().name());
            }
        }
        List<Object> revoked = keys.stream()
                .filter(k -> k.revokedAt() != null)
                .sorted(Comparator.comparing(Key::revokedAt).thenComparing(Key::kid))
                .map(k -> {
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("kid", k.kid());
                    r.put("revokedAt", k.revokedAt().toString());
                    r.put("reason", k.revocationReason());
                    return (Object) r;
                })
                .toList();
        Map<String, Object> decisive = new LinkedHashMap<>();
        decisive.put("sub", issuer.id());
        decisive.put("issuerUri", issuer.issuerUri());
        decisive.put("status", issuer.status().name());
        decisive.put("refreshHint", refreshHintSeconds);
        decisive.put("audiences", List.copyOf(issuer.audiences()));
        decisive.put("algorithms", List.copyOf(algorithms));
        decisive.put("keys", published);
        decisive.put("revoked", revoked);
        String digest = sha256Hex(Jcs.canonicalize(decisive));
        Map<String, Object> payload = new LinkedHashMap<>(decisive);
        payload.put("sequence", sequence);
        payload.put("rollbackOf", rollbackOf);
        return new Content(payload, digest);
    }

    /** Published by its recorded state; see the class comment. */
    public static boolean published(Key k) {
        return k.state() == KeyState.PENDING
                || k.state() == KeyState.ACTIVE
                || (k.state() == KeyState.RETIRED && k.unpublishedAt() == null);
    }

    /** The kids a payload publishes. */
    @SuppressWarnings("unchecked")
    public static List<String> kids(Map<String, Object> payload) {
        return ((List<Map<String, Object>>) payload.get("keys"))
                .stream().map(m -> (String) m.get("kid")).toList();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> parse(String json) {
        try {
            return JSON.readValue(json, LinkedHashMap.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored JSON does not parse", e);
        }
    }

    /** A timestamptz from a native query (Hibernate returns Instant, OffsetDateTime or Timestamp by version). */
    static java.time.Instant instant(Object o) {
        if (o instanceof java.sql.Timestamp t) {
            return t.toInstant();
        }
        if (o instanceof java.time.OffsetDateTime odt) {
            return odt.toInstant();
        }
        return (java.time.Instant) o;
    }

    static String sha256Hex(String s) {
        return HexFormat.of().formatHex(sha256(s.getBytes(StandardCharsets.UTF_8)));
    }

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
