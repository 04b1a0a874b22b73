package dev.keyhold.testsupport;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * A WebAuthn authenticator in software, for tests: it makes registrations ({@code attestationObject},
 * {@code clientDataJSON}) and assertions ({@code authenticatorData}, {@code clientDataJSON}, {@code signature}) the way
 * a browser and a passkey do, byte by byte (CBOR, COSE keys, authenticator data), with a JCA key pair: ES256 (EC P-256,
 * DER signatures), RS256 or EdDSA (Ed25519). Every field can be set wrong on purpose.
 */
public final class SoftAuthenticator {

    public static final int UP = 0x01;
    public static final int UV = 0x04;
    public static final int AT = 0x40;

    public record Registration(byte[] attestationObject, byte[] clientDataJSON) {
        public String attestationObjectB64() {
            return b64(attestationObject);
        }

        public String clientDataJSONB64() {
            return b64(clientDataJSON);
        }
    }

    public record Assertion(byte[] authenticatorData, byte[] clientDataJSON, byte[] signature) {}

    private final KeyPair pair;
    private final String algorithm;
    private final byte[] credentialId;

    private SoftAuthenticator(KeyPair pair, String algorithm) {
        this.pair = pair;
        this.algorithm = algorithm;
        this.credentialId = uuidBytes();
    }

    public static SoftAuthenticator es256() {
        return new SoftAuthenticator(generate("EC", new ECGenParameterSpec("secp256r1")), "ES256");
    }

    public static SoftAuthenticator rs256() {
        return new SoftAuthenticator(generate("RSA", null), "RS256");
    }

    public static SoftAuthenticator ed25519() {
        return new SoftAuthenticator(generate("Ed25519", null), "EdDSA");
    }

    public KeyPair keyPair() {
        return pair;
    }

    public String algorithm() {
        return algorithm;
    }

    public byte[] credentialId() {
        return credentialId.clone();
    }

    public String credentialIdB64() {
        return b64(credentialId);
    }

    /** The public key as Keyhold stores it: base64url X.509 SubjectPublicKeyInfo. */
    public String publicKeySpki() {
        return b64(pair.getPublic().getEncoded());
    }

    // ---- registration ----------------------------------------------------------------------------------------------

    /** A registration with attestation "none", flags UP|UV|AT. */
    public Registration register(byte[] challenge, String origin, String rpId) {
        return register(clientData("webauthn.create", challenge, origin), rpId, UP | UV | AT, null);
    }

    /**
     * A registration over the given client data bytes. {@code attestationSigner} null: attestation "none"; else format
     * "packed" without certificates (self attestation), its signature made by that authenticator's key (this one's for
     * genuine self attestation).
     */
    public Registration register(byte[] clientDataJSON, String rpId, int flags, SoftAuthenticator attestationSigner) {
        byte[] authData = registrationAuthData(rpId, flags);
        Map<Object, Object> att = new LinkedHashMap<>();
        if (attestationSigner != null) {
            Map<Object, Object> stmt = new LinkedHashMap<>();
            stmt.put("alg", coseAlg());
            stmt.put("sig", attestationSigner.sign(concat(authData, sha256(clientDataJSON))));
            att.put("fmt", "packed");
            att.put("attStmt", stmt);
        } else {
            att.put("fmt", "none");
            att.put("attStmt", new LinkedHashMap<>());
        }
        att.put("authData", authData);
        return new Registration(cbor(att), clientDataJSON);
    }

    private byte[] registrationAuthData(String rpId, int flags) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(sha256(rpId.getBytes(StandardCharsets.UTF_8)));
        out.write(flags);
        out.writeBytes(new byte[4]); // sign count 0
        out.writeBytes(new byte[16]); // AAGUID: none
        out.write(credentialId.length >> 8);
        out.write(credentialId.length & 0xff);
        out.writeBytes(credentialId);
        out.writeBytes(cbor(coseKey()));
        return out.toByteArray();
    }

    private Map<Object, Object> coseKey() {
        Map<Object, Object> k = new LinkedHashMap<>();
        switch (algorithm) {
            case "ES256" -> {
                ECPublicKey ec = (ECPublicKey) pair.getPublic();
                k.put(1L, 2L);
                k.put(3L, -7L);
                k.put(-1L, 1L);
                k.put(-2L, unsigned(ec.getW().getAffineX(), 32));
                k.put(-3L, unsigned(ec.getW().getAffineY(), 32));
            }
            case "RS256" -> {
                RSAPublicKey rsa = (RSAPublicKey) pair.getPublic();
                k.put(1L, 3L);
                k.put(3L, -257L);
                k.put(-1L, unsigned(rsa.getModulus(), (rsa.getModulus().bitLength() + 7) / 8));
                k.put(
                        -2L,
                        unsigned(
                                rsa.getPublicExponent(),
                                (rsa.getPublicExponent().bitLength() + 7) / 8));
            }
            case "EdDSA" -> {
                byte[] spki = pair.getPublic().getEncoded();
                k.put(1L, 1L);
                k.put(3L, -8L);
                k.put(-1L, 6L);
                k.put(-2L, Arrays.copyOfRange(spki, spki.length - 32, spki.length));
            }
            default -> throw new IllegalStateException(algorithm);
        }
        return k;
    }

    private long coseAlg() {
        return switch (algorithm) {
            case "ES256" -> -7L;
            case "RS256" -> -257L;
            default -> -8L;
        };
    }

    // ---- assertion
    // ---------------------------------------------------------------------------------------------------

    /** An assertion as a browser makes it: type webauthn.get, flags UP|UV. */
    public Assertion assertion(byte[] challenge, String origin, String rpId) {
        return assertion(clientData("webauthn.get", challenge, origin), rpId, UP | UV);
    }

    public Assertion assertion(byte[] clientDataJSON, String rpId, int flags) {
        ByteBuffer b = ByteBuffer.allocate(37);
        b.put(sha256(rpId.getBytes(StandardCharsets.UTF_8)));
        b.put((byte) flags);
        b.putInt(7); // a sign count: never enforced
        byte[] authData = b.array();
        return new Assertion(authData, clientDataJSON, sign(concat(authData, sha256(clientDataJSON))));
    }

    /** clientDataJSON as Chromium writes it. */
    public static byte[] clientData(String type, byte[] challenge, String origin) {
        return ("{\"type\":\"" + type + "\",\"challenge\":\"" + b64(challenge) + "\",\"origin\":\"" + origin
                        + "\",\"crossOrigin\":false}")
                .getBytes(StandardCharsets.UTF_8);
    }

    public byte[] sign(byte[] data) {
        try {
            Signature s = Signature.getInstance(
                    switch (algorithm) {
                        case "ES256" -> "SHA256withECDSA";
                        case "RS256" -> "SHA256withRSA";
                        default -> "Ed25519";
                    });
            s.initSign(pair.getPrivate());
            s.update(data);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- bytes -----------------------------------------------------------------------------------------------------

    public static String b64(byte[] b) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    public static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Minimal CBOR (RFC 8949): maps, text and byte strings, integers. */
    public static byte[] cbor(Object value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        write(out, value);
        return out.toByteArray();
    }

    private static void write(ByteArrayOutputStream out, Object v) {
        if (v instanceof Long n) {
            if (n >= 0) {
                head(out, 0, n);
            } else {
                head(out, 1, -1 - n);
            }
        } else if (v instanceof String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            head(out, 3, b.length);
            out.writeBytes(b);
        } else if (v instanceof byte[] b) {
            head(out, 2, b.length);
            out.writeBytes(b);
        } else if (v instanceof Map<?, ?> m) {
            head(out, 5, m.size());
            m.forEach((k, x) -> {
                write(out, k);
                write(out, x);
            });
        } else {
            throw new IllegalArgumentException("cannot encode " + v);
        }
    }

    private static void head(ByteArrayOutputStream out, int major, long n) {
        int m = major << 5;
        if (n < 24) {
            out.write(m | (int) n);
        } else if (n < 0x100) {
            out.write(m | 24);
            out.write((int) n);
        } else if (n < 0x10000) {
            out.write(m | 25);
            out.write((int) (n >> 8));
            out.write((int) n & 0xff);
        } else {
            out.write(m | 26);
            out.writeBytes(ByteBuffer.allocate(4).putInt((int) n).array());
        }
    }

    private static byte[] unsigned(BigInteger v, int length) {
        byte[] raw = v.toByteArray();
        if (raw.length == length) {
            return raw;
        }
        byte[] out = new byte[length];
        int copy = Math.min(raw.length, length);
        System.arraycopy(raw, raw.length - copy, out, length - copy, copy);
        return out;
    }

    private static KeyPair generate(String type, java.security.spec.AlgorithmParameterSpec spec) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance(type);
            if (spec != null) {
                g.initialize(spec);
            } else if (type.equals("RSA")) {
                g.initialize(2048);
            }
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] uuidBytes() {
        UUID u = UUID.randomUUID();
        return ByteBuffer.allocate(16)
                .putLong(u.getMostSignificantBits())
                .putLong(u.getLeastSignificantBits())
                .array();
    }
}
