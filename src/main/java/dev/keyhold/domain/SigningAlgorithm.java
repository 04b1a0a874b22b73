package dev.keyhold.domain;

import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.util.Optional;

/**
 * The JWS signing algorithms Keyhold can run inside a PKCS#11 token.
 *
 * <p>EdDSA ("where the HSM supports it" in SPEC) is not offered yet. SunPKCS11 (JDK 17 and 25) has no EdDSA
 * signature service; since the adapter drives PKCS#11 directly, CKM_EC_EDWARDS_KEY_PAIR_GEN and CKM_EDDSA are
 * now reachable, which makes it a candidate for a later change.
 */
public enum SigningAlgorithm {
    ES256("SHA256withECDSA", "EC", "secp256r1", 64),
    ES384("SHA384withECDSA", "EC", "secp384r1", 96),
    RS256("SHA256withRSA", "RSA", null, 0),
    PS256("RSASSA-PSS", "RSA", null, 0);

    /** RSA modulus size for new keys: the JWA minimum, and ~200 ms to generate on SoftHSM2 (3072 is ~850 ms). */
    private static final int RSA_BITS = 2048;

    private final String jcaSignatureName;
    private final String keyType;
    private final String curve;
    private final int ecSignatureLength;

    SigningAlgorithm(String jcaSignatureName, String keyType, String curve, int ecSignatureLength) {
        this.jcaSignatureName = jcaSignatureName;
        this.keyType = keyType;
        this.curve = curve;
        this.ecSignatureLength = ecSignatureLength;
    }

    public String jcaSignatureName() {
        return jcaSignatureName;
    }

    /**
     * Parameters the {@link java.security.Signature} needs before {@code initSign}/{@code initVerify}.
     * Only PS256 has any: RFC 7518 §3.5 fixes SHA-256, MGF1 with SHA-256 and a salt as long as the hash.
     */
    public AlgorithmParameterSpec signatureParams() {
        if (this == PS256) {
            return new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1);
        }
        return null;
    }

    /** JCA key algorithm name: "EC" or "RSA". */
    public String keyType() {
        return keyType;
    }

    public AlgorithmParameterSpec keyGenSpec() {
        if (curve != null) {
            return new ECGenParameterSpec(curve);
        }
        return new RSAKeyGenParameterSpec(RSA_BITS, RSAKeyGenParameterSpec.F4);
    }

    /** Length of the JWS R‖S signature (RFC 7518 §3.4); 0 for RSA, whose signatures are used as they come. */
    public int ecSignatureLength() {
        return ecSignatureLength;
    }

    public boolean isEc() {
        return ecSignatureLength > 0;
    }

    /** Exact, case-sensitive: "es256" is not a JWS algorithm name, and guessing would hide configuration mistakes. */
    public static Optional<SigningAlgorithm> parse(String name) {
        if (name == null) {
            return Optional.empty();
        }
        for (SigningAlgorithm a : values()) {
            if (a.name().equals(name)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    /** Bit length of the curve order for EC algorithms, used to refuse an ES384 request on a P-256 key. */
    public int curveOrderBits() {
        return switch (this) {
            case ES256 -> 256;
            case ES384 -> 384;
            default -> 0;
        };
    }
}
