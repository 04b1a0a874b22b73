package dev.keyhold.trust;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * A validator's side of trust bundles, written independently of the server code (Nimbus verifies, Jackson parses):
 * given the pinned trust anchor and the issuer it trusts, it accepts a bundle or says why not. It remembers the
 * highest sequence it accepted, so a lower one is a rollback attack; an equal one is a re-signature of the same
 * content (accepted only if the content is the same).
 */
final class TrustBundleConsumer {

    enum Reason {
        ACCEPTED,
        MALFORMED,
        WRONG_TYPE,
        UNKNOWN_KEY,
        BAD_SIGNATURE,
        WRONG_ISSUER,
        EXPIRED,
        LOWER_SEQUENCE,
        CHANGED_CONTENT
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private List<JWK> anchors;
    private final String issuerId;
    private final Clock clock;
    private long highest;
    private Map<String, Object> accepted;

    TrustBundleConsumer(List<JWK> anchors, String issuerId, Clock clock) {
        this.anchors = anchors;
        this.issuerId = issuerId;
        this.clock = clock;
    }

    /**
     * Accepts a compact bundle or a trust key takeover's JWS JSON serialization (two signatures over one payload):
     * the latter needs one signature by a pinned key; when that signature's protected header names a
     * {@code successor} JWK and the other signature is that key's and verifies, the consumer pins the successor in
     * place of the keys it had (the old key is retired).
     */
    @SuppressWarnings("unchecked")
    Reason accept(String body) {
        if (body.startsWith("{")) {
            return acceptJson(body);
        }
        JWSObject o;
        try {
            o = JWSObject.parse(body);
        } catch (Exception e) {
            return Reason.MALFORMED;
        }
        Reason r = verify(o, anchors);
        return r != Reason.ACCEPTED ? r : checkPayload(o);
    }

    @SuppressWarnings("unchecked")
    private Reason acceptJson(String body) {
        JWSObject trusted = null;
        JWSObject other = null;
        Reason firstFailure = Reason.UNKNOWN_KEY;
        try {
            Map<String, Object> json = JSON.readValue(body, Map.class);
            for (Map<String, Object> s : (List<Map<String, Object>>) json.get("signatures")) {
                JWSObject o =
                        JWSObject.parse(s.get("protected") + "." + json.get("payload") + "." + s.get("signature"));
                Reason r = verify(o, anchors);
                if (r == Reason.ACCEPTED && trusted == null) {
                    trusted = o;
                } else {
                    if (r != Reason.UNKNOWN_KEY) {
                        firstFailure = r;
                    }
                    other = o;
                }
            }
        } catch (Exception e) {
            return Reason.MALFORMED;
        }
        if (trusted == null) {
            return firstFailure;
        }
        Object successor = trusted.getHeader().getCustomParam("successor");
        if (successor != null && other != null) {
            try {
                JWK next = JWK.parse((Map<String, Object>) successor);
                if (!next.computeThumbprint().toString().equals(next.getKeyID())
                        || verify(other, List.of(next)) != Reason.ACCEPTED) {
                    return Reason.BAD_SIGNATURE;
                }
                Reason r = checkPayload(trusted);
                if (r == Reason.ACCEPTED) {
                    anchors = List.of(next);
                }
                return r;
            } catch (Exception e) {
                return Reason.MALFORMED;
            }
        }
        return checkPayload(trusted);
    }

    List<JWK> anchors() {
        return anchors;
    }

    private static Reason verify(JWSObject o, List<JWK> keys) {
        if (o.getHeader().getType() == null
                || !"keyhold-trust-bundle+jwt".equals(o.getHeader().getType().getType())) {
            return Reason.WRONG_TYPE;
        }
        JWK key = keys.stream()
                .filter(k -> k.getKeyID().equals(o.getHeader().getKeyID()))
                .findFirst()
                .orElse(null);
        if (key == null) {
            return Reason.UNKNOWN_KEY;
        }
        try {
            if (!"ES256".equals(o.getHeader().getAlgorithm().getName()) || !o.verify(new ECDSAVerifier((ECKey) key))) {
                return Reason.BAD_SIGNATURE;
            }
        } catch (Exception e) {
            return Reason.BAD_SIGNATURE;
        }
        return Reason.ACCEPTED;
    }

    @SuppressWarnings("unchecked")
    private Reason checkPayload(JWSObject o) {
        Map<String, Object> p;
        try {
            p = JSON.readValue(o.getPayload().toString().getBytes(StandardCharsets.UTF_8), Map.class);
        } catch (Exception e) {
            return Reason.MALFORMED;
        }
        if (!issuerId.equals(p.get("sub"))) {
            return Reason.WRONG_ISSUER;
        }
        if (!(p.get("exp") instanceof Number exp) || clock.instant().getEpochSecond() >= exp.longValue()) {
            return Reason.EXPIRED;
        }
        long sequence = ((Number) p.get("sequence")).longValue();
        if (sequence < highest) {
            return Reason.LOWER_SEQUENCE;
        }
        if (sequence == highest && accepted != null && !sameContent(accepted, p)) {
            return Reason.CHANGED_CONTENT;
        }
        highest = sequence;
        accepted = p;
        return Reason.ACCEPTED;
    }

    Map<String, Object> accepted() {
        return accepted;
    }

    private static boolean sameContent(Map<String, Object> a, Map<String, Object> b) {
        Map<String, Object> x = new java.util.HashMap<>(a);
        Map<String, Object> y = new java.util.HashMap<>(b);
        for (String volatileField : List.of("iat", "exp")) {
            x.remove(volatileField);
            y.remove(volatileField);
        }
        return x.equals(y);
    }
}
