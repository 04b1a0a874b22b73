package dev.keyhold.validator;

import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Decides whether a trust bundle may be used, against a pinned trust anchor: the bundle's signature is a pinned trust
 * key's ({@code ES256}, {@code typ keyhold-trust-bundle+jwt}), its {@code sub} is the issuer asked for, its
 * {@code exp} is in the future, and its {@code sequence} is not lower than the last one accepted for that issuer (an
 * equal one must carry the same content: a re-signature). A trust key takeover's bundle (JWS JSON serialization, two
 * signatures over one payload) is accepted when one signature is a pinned key's; when that signature's protected
 * header names a {@code successor} JWK whose thumbprint is its kid and the other signature verifies with it, the
 * successor replaces the pinned keys: the old trust key is retired and never signs again.
 *
 * <p>Thread-safe; the anchor is shared by every issuer of one validator.
 */
final class TrustBundleVerifier {

    static final String TYP = "keyhold-trust-bundle+jwt";

    private final Clock clock;
    private List<JWK> anchors;
    private final Map<String, Accepted> accepted = new HashMap<>();

    /** An accepted bundle: its payload (StrictJson values, and as JSON text), sequence and exp. */
    record Accepted(Map<String, Object> payload, String json, long sequence, Instant exp) {}

    /** A refused bundle, with one of {@link TrustBundleStatus}'s reasons. */
    static final class Refused extends java.io.IOException {
        final String reason;

        Refused(String reason, String detail) {
            super("trust bundle refused (" + reason + "): " + detail);
            this.reason = reason;
        }
    }

    TrustBundleVerifier(JWKSet anchor, Clock clock) {
        List<JWK> keys = new ArrayList<>();
        for (JWK k : anchor.getKeys()) {
            if (k.isPrivate() || !(k instanceof ECKey) || k.getKeyID() == null) {
                throw new IllegalArgumentException("a trust anchor holds public EC (ES256) keys with a kid");
            }
            keys.add(k);
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("the trust anchor holds no key");
        }
        this.anchors = List.copyOf(keys);
        this.clock = clock;
    }

    synchronized List<JWK> anchors() {
        return anchors;
    }

    synchronized Accepted last(String issuerId) {
        return accepted.get(issuerId);
    }

    /** Accepts {@code body} (compact JWS or JWS JSON serialization) as issuer {@code issuerId}'s bundle, or says why not. */
    synchronized Accepted accept(String issuerId, String body) throws Refused {
        JWSObject trusted;
        JWK successor = null;
        if (body.startsWith("{")) {
            JWSObject[] pair = twoSignatures(body);
            int pinned = verifiedIndex(pair);
            trusted = pair[pinned];
            JWSObject other = pair[1 - pinned];
            successor = successor(trusted, other);
        } else {
            try {
                trusted = JWSObject.parse(body);
            } catch (java.text.ParseException e) {
                throw new Refused(TrustBundleStatus.MALFORMED, "not a JWS");
            }
            verify(trusted, anchors);
        }
        Map<String, Object> p = payload(trusted);
        if (!issuerId.equals(p.get("sub"))) {
            throw new Refused(TrustBundleStatus.WRONG_ISSUER, "the bundle is issuer " + p.get("sub") + "'s");
        }
        if (!(p.get("exp") instanceof BigInteger exp) || !(p.get("sequence") instanceof BigInteger seq)) {
            throw new Refused(TrustBundleStatus.MALFORMED, "no exp or sequence");
        }
        if (clock.instant().getEpochSecond() >= exp.longValue()) {
            throw new Refused(TrustBundleStatus.EXPIRED, "expired at " + Instant.ofEpochSecond(exp.longValue()));
        }
        Accepted before = accepted.get(issuerId);
        if (before != null && seq.longValue() < before.sequence()) {
            throw new Refused(TrustBundleStatus.LOWER_SEQUENCE, "sequence " + seq + " after " + before.sequence());
        }
        if (before != null && seq.longValue() == before.sequence() && !sameContent(before.payload(), p)) {
            throw new Refused(TrustBundleStatus.SEQUENCE_REUSED, "sequence " + seq + " with other content");
        }
        Accepted a = new Accepted(
                p, trusted.getPayload().toString(), seq.longValue(), Instant.ofEpochSecond(exp.longValue()));
        accepted.put(issuerId, a);
        if (successor != null) {
            anchors = List.of(successor);
        }
        return a;
    }

    private JWSObject[] twoSignatures(String body) throws Refused {
        try {
            if (!(StrictJson.parse(body.getBytes(StandardCharsets.UTF_8)) instanceof Map<?, ?> json)
                    || !(json.get("payload") instanceof String payload)
                    || !(json.get("signatures") instanceof List<?> sigs)
                    || sigs.size() != 2) {
                throw new Refused(
                        TrustBundleStatus.MALFORMED, "a JWS JSON bundle carries one payload and two signatures");
            }
            JWSObject[] out = new JWSObject[2];
            for (int i = 0; i < 2; i++) {
                if (!(sigs.get(i) instanceof Map<?, ?> s)
                        || !(s.get("protected") instanceof String h)
                        || !(s.get("signature") instanceof String sig)
                        || s.containsKey("header")) {
                    throw new Refused(TrustBundleStatus.MALFORMED, "each signature has a protected header only");
                }
                out[i] = JWSObject.parse(h + "." + payload + "." + sig);
            }
            return out;
        } catch (java.text.ParseException | IllegalArgumentException e) {
            throw new Refused(TrustBundleStatus.MALFORMED, "unreadable JWS JSON serialization");
        }
    }

    /** The index of the signature made by a pinned key; refused when neither verifies under one. */
    private int verifiedIndex(JWSObject[] pair) throws Refused {
        Refused first = null;
        for (int i = 0; i < 2; i++) {
            try {
                verify(pair[i], anchors);
                return i;
            } catch (Refused r) {
                if (first == null || TrustBundleStatus.UNKNOWN_KEY.equals(first.reason)) {
                    first = r;
                }
            }
        }
        throw first;
    }

    /** The successor the pinned signature names, once the other signature has verified under it; else null. */
    @SuppressWarnings("unchecked")
    private static JWK successor(JWSObject trusted, JWSObject other) throws Refused {
        Object named = trusted.getHeader().getCustomParam("successor");
        if (named == null) {
            return null;
        }
        JWK next;
        try {
            next = JWK.parse((Map<String, Object>) named);
            if (!next.computeThumbprint().toString().equals(next.getKeyID()) || next.isPrivate()) {
                throw new Refused(TrustBundleStatus.BAD_SIGNATURE, "the successor's kid is not its thumbprint");
            }
        } catch (java.text.ParseException | ClassCastException | com.nimbusds.jose.JOSEException e) {
            throw new Refused(TrustBundleStatus.MALFORMED, "unreadable successor key");
        }
        if (!Objects.equals(other.getHeader().getKeyID(), next.getKeyID())) {
            throw new Refused(TrustBundleStatus.BAD_SIGNATURE, "the second signature is not the successor's");
        }
        verify(other, List.of(next));
        return next;
    }

    private static void verify(JWSObject o, List<JWK> keys) throws Refused {
        if (o.getHeader().getType() == null
                || !TYP.equals(o.getHeader().getType().getType())
                || o.getHeader().getCriticalParams() != null) {
            throw new Refused(
                    TrustBundleStatus.MALFORMED,
                    "not a trust bundle (typ " + o.getHeader().getType() + ")");
        }
        String kid = o.getHeader().getKeyID();
        JWK key =
                keys.stream().filter(k -> k.getKeyID().equals(kid)).findFirst().orElse(null);
        if (key == null) {
            throw new Refused(TrustBundleStatus.UNKNOWN_KEY, "signed by " + kid + ", not a pinned trust key");
        }
        try {
            if (!"ES256".equals(o.getHeader().getAlgorithm().getName()) || !o.verify(new ECDSAVerifier((ECKey) key))) {
                throw new Refused(TrustBundleStatus.BAD_SIGNATURE, "the signature of " + kid + " does not verify");
            }
        } catch (com.nimbusds.jose.JOSEException e) {
            throw new Refused(TrustBundleStatus.BAD_SIGNATURE, "the signature of " + kid + " does not verify");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> payload(JWSObject o) throws Refused {
        try {
            if (StrictJson.parse(o.getPayload().toBytes()) instanceof Map<?, ?> m) {
                return (Map<String, Object>) m;
            }
        } catch (IllegalArgumentException e) {
            // falls through
        }
        throw new Refused(TrustBundleStatus.MALFORMED, "the payload is not a JSON object");
    }

    private static boolean sameContent(Map<String, Object> a, Map<String, Object> b) {
        Map<String, Object> x = new HashMap<>(a);
        Map<String, Object> y = new HashMap<>(b);
        for (String resigned : List.of("iat", "exp")) {
            x.remove(resigned);
            y.remove(resigned);
        }
        return x.equals(y);
    }
}
