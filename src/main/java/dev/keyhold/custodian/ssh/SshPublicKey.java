package dev.keyhold.custodian.ssh;

import dev.keyhold.custodian.signature.InvalidSignatureException;
import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.spec.ECFieldFp;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.EllipticCurve;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Set;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * An OpenSSH public key of one of the types a custodian may enroll, parsed from an authorized_keys-style line
 * {@code "type base64 [comment]"} (no options prefix).
 *
 * <p>Key blobs (RFC 4251 wire encoding; PROTOCOL.u2f for the sk- forms):
 * <pre>
 * ssh-ed25519                          string type, string pk (32 bytes)
 * ecdsa-sha2-nistp256                  string type, string "nistp256", string Q (65 bytes, 0x04 || X || Y)
 * sk-ssh-ed25519@openssh.com           string type, string pk (32 bytes), string application
 * sk-ecdsa-sha2-nistp256@openssh.com   string type, string "nistp256", string Q, string application
 * </pre>
 * The blob must be exactly one of these with no trailing bytes, the type in the line must equal the type in the
 * blob, an ECDSA point must be uncompressed and on P-256, and an Ed25519 key must be a valid point of the prime-order
 * subgroup. RSA, DSA, other curves and certificates are refused.
 *
 * <p>{@link #canonical()} is {@code "type base64(blob)"} without the comment; {@link #fingerprint()} is
 * {@code "SHA256:" + unpadded base64(SHA-256(blob))}, what {@code ssh-keygen -l -E sha256} prints. Two keys are equal
 * when their blobs are.
 */
public final class SshPublicKey {

    static final String ED25519 = "ssh-ed25519";
    static final String ECDSA_P256 = "ecdsa-sha2-nistp256";
    static final String SK_ED25519 = "sk-ssh-ed25519@openssh.com";
    static final String SK_ECDSA_P256 = "sk-ecdsa-sha2-nistp256@openssh.com";
    private static final Set<String> TYPES = Set.of(ED25519, ECDSA_P256, SK_ED25519, SK_ECDSA_P256);

    /** Longest line accepted by {@link #parse} (an sk-ecdsa key with a long comment is well under 1 KiB). */
    static final int MAX_LINE = 8192;

    static final int MAX_APPLICATION = 256;

    static final ECParameterSpec P256 = p256();
    private static final byte[] ED25519_SPKI_PREFIX = {
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00
    };

    private final String type;
    private final byte[] blob;
    private final PublicKey key; // JDK Ed25519 or EC public key
    private final byte[] application; // sk- forms only, else null
    private final byte[] ed25519; // the 32 key bytes of an Ed25519 key, else null

    private SshPublicKey(String type, byte[] blob, PublicKey key, byte[] application, byte[] ed25519) {
        this.type = type;
        this.blob = blob;
        this.key = key;
        this.application = application;
        this.ed25519 = ed25519;
    }

    /**
     * Parses one authorized_keys-style line: {@code "type base64 [comment]"}. Types: ssh-ed25519,
     * ecdsa-sha2-nistp256, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com. Anything else:
     * {@link InvalidSignatureException}.
     */
    public static SshPublicKey parse(String line) {
        if (line == null) {
            throw new InvalidSignatureException("no SSH public key");
        }
        if (line.length() > MAX_LINE) {
            throw new InvalidSignatureException("SSH public key line too long");
        }
        String s = line.strip();
        if (s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0) {
            throw new InvalidSignatureException("SSH public key must be one line");
        }
        String[] parts = s.split("[ \t]+", 3);
        if (parts.length < 2 || parts[0].isEmpty()) {
            throw new InvalidSignatureException("SSH public key must be \"type base64 [comment]\"");
        }
        if (!TYPES.contains(parts[0])) {
            throw new InvalidSignatureException(
                    "unsupported SSH key type (use ssh-ed25519, ecdsa-sha2-nistp256 or " + "their sk- forms)");
        }
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            throw new InvalidSignatureException("SSH public key is not valid base64");
        }
        SshPublicKey k = fromBlob(blob);
        if (!k.type.equals(parts[0])) {
            throw new InvalidSignatureException("SSH public key type does not match its encoded key");
        }
        return k;
    }

    /** Decodes a public key blob (as embedded in an SSHSIG), with all of {@link #parse}'s checks. */
    static SshPublicKey fromBlob(byte[] blob) {
        SshWire.Reader r = new SshWire.Reader(blob, "SSH public key");
        String type = r.text(64);
        if (!TYPES.contains(type)) {
            throw new InvalidSignatureException(
                    "unsupported SSH key type (use ssh-ed25519, ecdsa-sha2-nistp256 or " + "their sk- forms)");
        }
        PublicKey key;
        byte[] rawEd25519 = null;
        if (type.equals(ED25519) || type.equals(SK_ED25519)) {
            byte[] pk = r.string(32);
            if (pk.length != 32) {
                throw r.bad();
            }
            key = ed25519(pk);
            rawEd25519 = pk;
        } else {
            String curve = r.text(16);
            if (!curve.equals("nistp256")) {
                throw new InvalidSignatureException("SSH ECDSA key is not on nistp256");
            }
            key = p256Point(r.string(65));
        }
        byte[] application = null;
        if (type.startsWith("sk-")) {
            application = r.string(MAX_APPLICATION);
            if (application.length == 0) {
                throw r.bad();
            }
        }
        r.end();
        return new SshPublicKey(type, blob.clone(), key, application, rawEd25519);
    }

    static PublicKey ed25519(byte[] pk) {
        if (!Ed25519.validatePublicKeyFull(pk, 0)) {
            throw new InvalidSignatureException("SSH Ed25519 key is not a valid curve point");
        }
        byte[] spki = Arrays.copyOf(ED25519_SPKI_PREFIX, ED25519_SPKI_PREFIX.length + 32);
        System.arraycopy(pk, 0, spki, ED25519_SPKI_PREFIX.length, 32);
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
        } catch (GeneralSecurityException e) {
            throw new InvalidSignatureException("SSH Ed25519 key is not a valid curve point");
        }
    }

    static PublicKey p256Point(byte[] q) {
        if (q.length != 65 || q[0] != 0x04) {
            throw new InvalidSignatureException("SSH ECDSA key is not an uncompressed nistp256 point");
        }
        BigInteger x = new BigInteger(1, Arrays.copyOfRange(q, 1, 33));
        BigInteger y = new BigInteger(1, Arrays.copyOfRange(q, 33, 65));
        EllipticCurve c = P256.getCurve();
        BigInteger p = ((ECFieldFp) c.getField()).getP();
        boolean onCurve = x.compareTo(p) < 0
                && y.compareTo(p) < 0
                && y.multiply(y)
                        .mod(p)
                        .equals(x.pow(3).add(c.getA().multiply(x)).add(c.getB()).mod(p));
        if (!onCurve) {
            throw new InvalidSignatureException("SSH ECDSA key is not a point on nistp256");
        }
        try {
            return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(new ECPoint(x, y), P256));
        } catch (GeneralSecurityException e) {
            throw new InvalidSignatureException("SSH ECDSA key is not a point on nistp256");
        }
    }

    public String type() {
        return type;
    }

    /** {@code "type base64"} (no comment): what is stored and sealed. */
    public String canonical() {
        return type + " " + Base64.getEncoder().encodeToString(blob);
    }

    /** {@code "SHA256:<unpadded base64>"} exactly as {@code ssh-keygen -l -E sha256} prints it. */
    public String fingerprint() {
        return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(sha256(blob));
    }

    /** True for the FIDO security-key (sk-) forms. */
    public boolean securityKey() {
        return application != null;
    }

    byte[] blob() {
        return blob.clone();
    }

    boolean sameBlob(byte[] other) {
        return MessageDigest.isEqual(blob, other);
    }

    PublicKey jcaKey() {
        return key;
    }

    byte[] application() {
        return application == null ? null : application.clone();
    }

    boolean isEd25519() {
        return type.equals(ED25519) || type.equals(SK_ED25519);
    }

    /**
     * Verifies an Ed25519 signature (RFC 8032, strict: S below the group order, canonical point encodings) with
     * BouncyCastle's implementation, about four times faster than the JDK's: a cold policy chain of 1,000 versions
     * is 2,000 of these. The key was checked to be a valid point when it was parsed.
     */
    boolean verifyEd25519(byte[] data, byte[] sig) {
        if (ed25519 == null || sig.length != Ed25519.SIGNATURE_SIZE) {
            return false;
        }
        return Ed25519.verify(sig, 0, ed25519, 0, data, 0, data.length);
    }

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ECParameterSpec p256() {
        try {
            AlgorithmParameters ap = AlgorithmParameters.getInstance("EC");
            ap.init(new ECGenParameterSpec("secp256r1"));
            return ap.getParameterSpec(ECParameterSpec.class);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("P-256 is not available", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SshPublicKey k && Arrays.equals(blob, k.blob);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(blob);
    }

    @Override
    public String toString() {
        return canonical();
    }
}
