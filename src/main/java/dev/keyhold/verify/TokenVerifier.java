package dev.keyhold.verify;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import dev.keyhold.domain.Deadlines;
import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.issuer.Issuer;
import dev.keyhold.logging.LogContext;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.AlgorithmParameterSpec;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * The reference validator: Keyhold's own, issuer-bound answer to "would a careful relying party accept this
 * token?". The order of the checks is the contract, and the first failure is the verdict:
 * <ol>
 *   <li>parse (three base64url parts, JSON objects, no duplicate members, no {@code crit}) — {@code malformed};
 *   <li>the {@code iss} is a registered issuer that is not suspended — {@code issuer_not_allowed};
 *   <li>the {@code kid} is a key of <em>that</em> issuer — {@code kid_not_bound_to_issuer}, also for a kid nobody
 *       knows, and even when the signature would verify (the Storm-0558 failure);
 *   <li>the key is usable: in the issuer's JWKS at now (not revoked or destroyed, RETIRED only before
 *       verifyUntil) — {@code key_not_usable};
 *   <li>the signature, with the algorithm of the key row, never the token's: a header {@code alg} that differs
 *       ({@code none}, HS256 keyed with the public key, any swap) is {@code invalid_signature};
 *   <li>every {@code aud} value is one of the issuer's audiences — {@code audience_not_allowed};
 *   <li>{@code exp} present and in the future, {@code nbf} (if any) not in the future — {@code expired}.
 * </ol>
 * The public key comes from the key row (the JWK published in the JWKS), never from the HSM; verification runs
 * on the JDK's providers.
 */
@ApplicationScoped
public class TokenVerifier {

    private static final Logger VERDICTS = Logger.getLogger("dev.keyhold.verify.verdicts");
    private static final Base64.Decoder B64 = Base64.getUrlDecoder();
    private static final java.util.regex.Pattern BASE64URL = java.util.regex.Pattern.compile("[A-Za-z0-9_-]+");
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    @Inject
    VerificationDirectory directory;

    @Inject
    Clock clock;

    @Inject
    MeterRegistry registry;

    /** Parsed public keys by kid; a kid is the thumbprint of its key, so an entry can never go stale. */
    private final ConcurrentHashMap<String, PublicKey> publicKeys = new ConcurrentHashMap<>();

    /** Verifies against the current state, logs and counts the verdict. */
    public Verdict verify(String token) {
        Outcome o = evaluate(token, directory, clock.instant());
        Verdict v = o.verdict();
        // Tag values are bounded: a registered issuer's id, else a fixed placeholder, so a stream of forged tokens
        // cannot blow up the metric's cardinality. No kid tag: every key ever made would stay a series forever
        // ; the kid is in the log line and, for JSON logs, in the MDC.
        String issuerTag = o.issuer() != null ? o.issuer().id() : "unregistered";
        String reasonTag = v.valid() ? "valid" : v.reason();
        registry.counter("keyhold.verify.verdicts", "issuer", issuerTag, "reason", reasonTag)
                .increment();
        if (o.issuer() != null) {
            MDC.put(LogContext.ISSUER, o.issuer().id());
        }
        if (o.key() != null) {
            MDC.put(LogContext.KID, o.key().kid());
        }
        VERDICTS.infof("verdict %s iss=%s kid=%s", reasonTag, printable(v.iss()), printable(v.kid()));
        return v;
    }

    /** What the engine decided, and the issuer and key it resolved on the way (null where it stopped before). */
    public record Outcome(Verdict verdict, Issuer issuer, Key key) {}

    /**
     * The engine itself, against any directory and instant, with no side effects: the canaries run exactly this
     * code, once with a directory that holds a key record the database cannot (a retired key past verifyUntil).
     */
    public Outcome evaluate(String token, VerificationDirectory dir, Instant now) {
        if (token == null) {
            return new Outcome(Verdict.invalid(Verdict.MALFORMED, null, null), null, null);
        }
        String[] parts = token.split("\\.", -1);
        ObjectNode header;
        ObjectNode payload;
        byte[] signature;
        try {
            if (parts.length != 3) {
                throw new IllegalArgumentException("not three parts");
            }
            // RFC 7515 §2: base64url without padding. The JDK decoder also takes '=' padding, which would make
            // "token==" a second spelling of a valid token.
            for (String part : parts) {
                if (!BASE64URL.matcher(part).matches()) {
                    throw new IllegalArgumentException("not unpadded base64url");
                }
            }
            header = object(parts[0]);
            payload = object(parts[1]);
            signature = B64.decode(parts[2]);
        } catch (RuntimeException | java.io.IOException e) {
            return new Outcome(Verdict.invalid(Verdict.MALFORMED, null, null), null, null);
        }
        String iss = text(payload.get("iss"));
        String kid = text(header.get("kid"));
        if (header.has("crit")) {
            // No extension is understood here, and RFC 7515 §4.1.11 says a token needing one must be rejected.
            return new Outcome(Verdict.invalid(Verdict.MALFORMED, iss, kid), null, null);
        }

        Issuer issuer = iss == null ? null : dir.issuerByUri(iss).orElse(null);
        if (issuer == null || issuer.status() == IssuerStatus.SUSPENDED) {
            return new Outcome(Verdict.invalid(Verdict.ISSUER_NOT_ALLOWED, iss, kid), null, null);
        }
        Key key = kid == null ? null : dir.key(kid).orElse(null);
        if (key == null || !key.issuerId().equals(issuer.id())) {
            return new Outcome(Verdict.invalid(Verdict.KID_NOT_BOUND_TO_ISSUER, iss, kid), issuer, null);
        }
        if (!Deadlines.publishable(key, issuer.policy(), now)) {
            return new Outcome(Verdict.invalid(Verdict.KEY_NOT_USABLE, iss, kid), issuer, key);
        }
        String signingInput = parts[0] + "." + parts[1];
        if (!signatureValid(key, text(header.get("alg")), signingInput, signature)) {
            return new Outcome(Verdict.invalid(Verdict.INVALID_SIGNATURE, iss, kid), issuer, key);
        }
        if (!audienceAllowed(payload.get("aud"), issuer.audiences())) {
            return new Outcome(Verdict.invalid(Verdict.AUDIENCE_NOT_ALLOWED, iss, kid), issuer, key);
        }
        long at = now.getEpochSecond();
        JsonNode exp = payload.get("exp");
        JsonNode nbf = payload.get("nbf");
        if (exp == null
                || !exp.isIntegralNumber()
                || at >= exp.asLong()
                || (nbf != null && (!nbf.isIntegralNumber() || at < nbf.asLong()))) {
            return new Outcome(Verdict.invalid(Verdict.EXPIRED, iss, kid), issuer, key);
        }
        return new Outcome(Verdict.valid(iss, kid), issuer, key);
    }

    private boolean signatureValid(Key key, String headerAlg, String signingInput, byte[] signature) {
        SigningAlgorithm alg = key.algorithm();
        // The key decides the algorithm. A token naming another one is refused before any cryptography runs, so
        // "none", HS256 with the public key as secret, and RS/ES/PS swaps never reach a verifier.
        if (!alg.name().equals(headerAlg)) {
            return false;
        }
        if (alg.isEc() && signature.length != alg.ecSignatureLength()) {
            return false;
        }
        try {
            PublicKey pub = publicKey(key);
            Signature s = Signature.getInstance(
                    switch (alg) {
                        // The P1363 forms take R‖S as JWS carries it (RFC 7518 §3.4).
                        case ES256 -> "SHA256withECDSAinP1363Format";
                        case ES384 -> "SHA384withECDSAinP1363Format";
                        case RS256, PS256 -> alg.jcaSignatureName();
                    });
            AlgorithmParameterSpec params = alg.signatureParams();
            if (params != null) {
                s.setParameter(params);
            }
            s.initVerify(pub);
            s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
            return s.verify(signature);
        } catch (Exception e) {
            return false;
        }
    }

    private PublicKey publicKey(Key key) {
        return publicKeys.computeIfAbsent(key.kid(), kid -> {
            try {
                JWK jwk = JWK.parse(key.publicJwk());
                if (!kid.equals(jwk.getKeyID())) {
                    throw new IllegalStateException("key row " + kid + " carries a JWK with another kid");
                }
                return jwk instanceof ECKey ec ? ec.toECPublicKey() : ((RSAKey) jwk).toRSAPublicKey();
            } catch (Exception e) {
                throw new IllegalStateException("unreadable public JWK of key " + kid, e);
            }
        });
    }

    private static boolean audienceAllowed(JsonNode aud, List<String> allowed) {
        List<String> values = new ArrayList<>();
        if (aud != null && aud.isTextual()) {
            values.add(aud.asText());
        } else if (aud != null && aud.isArray()) {
            for (JsonNode n : aud) {
                if (!n.isTextual()) {
                    return false;
                }
                values.add(n.asText());
            }
        }
        return !values.isEmpty() && allowed.containsAll(values);
    }

    private static ObjectNode object(String part) throws java.io.IOException {
        JsonNode n = JSON.readTree(B64.decode(part));
        if (!(n instanceof ObjectNode o)) {
            throw new IllegalArgumentException("not a JSON object");
        }
        return o;
    }

    private static String text(JsonNode n) {
        return n != null && n.isTextual() ? n.asText() : null;
    }

    /** Token contents are attacker-chosen: keep log lines short and on one line. */
    private static String printable(String s) {
        if (s == null) {
            return "-";
        }
        String t = s.length() > 100 ? s.substring(0, 100) + "…" : s;
        return t.replaceAll("[^\\x20-\\x7e]", "?");
    }

    /**
     * Whether the compact JWS's signature verifies under {@code key} with the key's own algorithm, whatever the key's
     * state and whatever the claims say (the evidence checks ask "was this signed with a Keyhold key?").
     */
    public boolean signatureVerifies(Key key, String token) {
        String[] parts = token == null ? new String[0] : token.split("\\.", -1);
        if (parts.length != 3) {
            return false;
        }
        try {
            String alg = text(object(parts[0]).get("alg"));
            return signatureValid(key, alg, parts[0] + "." + parts[1], B64.decode(parts[2]));
        } catch (RuntimeException | java.io.IOException e) {
            return false;
        }
    }

    Optional<PublicKey> cachedPublicKey(String kid) {
        return Optional.ofNullable(publicKeys.get(kid));
    }
}
