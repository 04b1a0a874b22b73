package dev.keyhold.custodian;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import dev.keyhold.config.TrustSettings;
import dev.keyhold.domain.CanonicalJson;
import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.HsmPort;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.interfaces.ECPublicKey;
import java.text.ParseException;
import java.util.Base64;
import java.util.Map;

/**
 * The HSM seal: a fixed-handle ES256 key {@value #HANDLE} in the trust partition. It seals what only Keyhold's own
 * code may decide (a credential binding, policy version 1, a suspension, a credential bootstrap). It does not rotate
 * with the trust-bundle key, so old seals keep verifying. Its public key is always read from the HSM (once per
 * process), never from a database row, so a database writer cannot substitute a key of their own.
 */
@ApplicationScoped
public class Seal {

    public static final String HANDLE = "keyhold-seal";
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final String HEADER =
            B64.encodeToString("{\"alg\":\"ES256\",\"typ\":\"keyhold-seal+jwt\"}".getBytes(StandardCharsets.US_ASCII));

    @Inject
    HsmPort hsm;

    @Inject
    TrustSettings trust;

    private volatile ECPublicKey publicKey;

    /** A compact JWS by the seal key over the canonical JSON of {@code payload}. */
    public String seal(Map<String, Object> payload) {
        key();
        String input = HEADER + "."
                + B64.encodeToString(CanonicalJson.canonicalize(payload).getBytes(StandardCharsets.UTF_8));
        byte[] sig =
                hsm.sign(trust.partition(), HANDLE, SigningAlgorithm.ES256, input.getBytes(StandardCharsets.US_ASCII));
        return input + "." + B64.encodeToString(sig);
    }

    /** The canonical payload text of a seal that verifies under the HSM's seal key; throws otherwise. */
    public String open(String jws) {
        try {
            JWSObject o = JWSObject.parse(jws);
            if (!"keyhold-seal+jwt"
                            .equals(
                                    o.getHeader().getType() == null
                                            ? null
                                            : o.getHeader().getType().getType())
                    || !o.verify(new ECDSAVerifier(key()))) {
                throw new SealException("the seal does not verify under the HSM seal key");
            }
            return o.getPayload().toString();
        } catch (ParseException | JOSEException | RuntimeException e) {
            if (e instanceof SealException s) {
                throw s;
            }
            throw new SealException("the seal is malformed");
        }
    }

    /** Whether {@code jws} seals exactly {@code expected} (canonical JSON). */
    public boolean seals(String jws, Map<String, Object> expected) {
        try {
            return open(jws).equals(CanonicalJson.canonicalize(expected));
        } catch (SealException e) {
            return false;
        }
    }

    ECPublicKey key() {
        ECPublicKey k = publicKey;
        if (k == null) {
            k = (ECPublicKey) hsm.publicKeyOrGenerate(trust.partition(), HANDLE, SigningAlgorithm.ES256);
            publicKey = k;
        }
        return k;
    }

    public static class SealException extends RuntimeException {
        public SealException(String msg) {
            super(msg);
        }
    }
}
