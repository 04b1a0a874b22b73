package dev.keyhold.policy;

import com.nimbusds.jose.jwk.JWK;
import dev.keyhold.domain.ActivationKind;
import dev.keyhold.domain.ActivationRequest;
import dev.keyhold.domain.CanonicalJson;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.store.KeyEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The approval statement of a request: the exact canonical JSON bytes custodians sign, fixed when the request opens.
 * {@code {"type":"keyhold.approval.v1","issuer","request","kind","requester","subject","policyVersion",
 * "policyDigest","approvalsRequired","expiresAt","nonce"}}. {@code subject}: {@code {"kid","jwkThumbprint"}} for a
 * key activation, {@code {"policyDigest"}} of the proposed version for a resume or policy change,
 * {@code {"toSequence"}} for a trust rollback, {@code {"kid"}} of the new trust key for a trust key rotation.
 */
@ApplicationScoped
public class Statements {

    public static final String TYPE = "keyhold.approval.v1";
    private static final SecureRandom RANDOM = new SecureRandom();

    @Inject
    PolicyChain chain;

    /** The statement of a request being opened, or null when the issuer has no policy chain (nothing can approve it). */
    @Transactional(Transactional.TxType.MANDATORY)
    public String statement(IssuerEntity issuer, ActivationRequest r, String payload, String proposedPolicy) {
        Optional<PolicyChain.Version> head = chain.head(issuer.id);
        if (head.isEmpty()) {
            return null;
        }
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("type", TYPE);
        s.put("issuer", issuer.id);
        s.put("request", r.id().toString());
        s.put("kind", r.kind().name());
        s.put("requester", r.requester());
        s.put("subject", subject(r.kind(), r.kid(), payload, proposedPolicy));
        s.put("policyVersion", head.get().version());
        s.put("policyDigest", head.get().digest());
        s.put("approvalsRequired", r.approvalsRequired());
        s.put("expiresAt", r.expiresAt().toString());
        byte[] nonce = new byte[16];
        RANDOM.nextBytes(nonce);
        s.put("nonce", Base64.getUrlEncoder().withoutPadding().encodeToString(nonce));
        return CanonicalJson.canonicalize(s);
    }

    static Map<String, Object> subject(ActivationKind kind, String kid, String payload, String proposed) {
        Map<String, Object> sub = new LinkedHashMap<>();
        switch (kind) {
            case KEY_ACTIVATION -> {
                sub.put("kid", kid);
                sub.put(
                        "jwkThumbprint",
                        thumbprint(
                                KeyEntity.findByKid(kid).map(k -> k.publicJwk).orElseThrow()));
            }
            case ISSUER_RESUME, POLICY_CHANGE -> sub.put("policyDigest", PolicyDocuments.digest(proposed));
            case TRUST_ROLLBACK ->
                sub.put("toSequence", PolicyDocuments.parse(payload).get("toSequence"));
            case TRUST_KEY_ROTATION ->
                sub.put("kid", PolicyDocuments.parse(payload).get("nextTrustKid"));
        }
        return sub;
    }

    /** RFC 7638 thumbprint (SHA-256, base64url) of a public JWK. */
    public static String thumbprint(String jwk) {
        try {
            return JWK.parse(jwk).computeThumbprint().toString();
        } catch (Exception e) {
            throw new IllegalStateException("not a JWK", e);
        }
    }

    public static String thumbprint(java.security.PublicKey key, dev.keyhold.domain.SigningAlgorithm alg) {
        try {
            return dev.keyhold.hsm.PublicJwks.of(key, alg).computeThumbprint().toString();
        } catch (Exception e) {
            throw new IllegalStateException("cannot compute a thumbprint", e);
        }
    }
}
