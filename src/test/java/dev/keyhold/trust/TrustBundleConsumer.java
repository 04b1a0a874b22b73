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

    enum Reason { ACCEPTED, MALFORMED, WRONG_TYPE, UNKNOWN_KEY, BAD_SIGNATURE, WRONG_ISSUER, EXPIRED, LOWER_SEQUENCE, CHANGED_CONTENT }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<JWK> anchors;
    private final String issuerId;
    private final Clock clock;
    private long highest;
    private Map<String, Object> accepted;

    TrustBundleConsumer(List<JWK> anchors, String issuerId, Clock clock) {
        this.anchors = anchors;
        this.issuerId = issuerId;
        this.clock = clock;
    }

    @SuppressWarnings("unchecked")
    Reason accept(String jws) {
        JWSObject o;
        Map<String, Object> p;
        try {
            o = JWSObject.parse(jws);
            p = JSON.readValue(o.getPayload().toString().getBytes(StandardCharsets.UTF_8), Map.class);
        } catch (Exception e) {
            return Reason.MALFORMED;
        }
        if (o.getHeader().getType() == null || !"keyhold-trust-bundle+jwt".equals(o.getHeader().getType().getType())) {
            return Reason.WRONG_TYPE;
        }
        JWK key = anchors.stream().filter(k -> k.getKeyID().equals(o.getHeader().getKeyID())).findFirst().orElse(null);
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
