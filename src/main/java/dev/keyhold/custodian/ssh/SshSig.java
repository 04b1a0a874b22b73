package dev.keyhold.custodian.ssh;

import dev.keyhold.custodian.signature.InvalidSignatureException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/**
 * OpenSSH signatures over arbitrary data ({@code ssh-keygen -Y sign/verify}, OpenSSH PROTOCOL.sshsig), in pure Java.
 *
 * <p>Armor: {@code -----BEGIN SSH SIGNATURE-----}, the base64 of the blob (ssh-keygen wraps at 70 columns),
 * {@code -----END SSH SIGNATURE-----}. The blob:
 * <pre>
 * byte[6]  "SSHSIG"
 * uint32   1                  (version)
 * string   publickey          (the signer's public key blob)
 * string   namespace          (non-empty; Keyhold uses keyhold-enroll and keyhold-approval)
 * string   reserved           (empty when written; ignored but signed when read, as the protocol says)
 * string   hash_algorithm     ("sha256" or "sha512")
 * string   signature          (an SSH signature blob, below)
 * </pre>
 * What the key signs is not the message but
 * {@code "SSHSIG" || string(namespace) || string(reserved) || string(hash_algorithm) || string(H(message))}, so a
 * signature made for one namespace never verifies in another.
 *
 * <p>Signature blobs: {@code ssh-ed25519}: string type, string 64-byte Ed25519 signature over the signed data.
 * {@code ecdsa-sha2-nistp256}: string type, string(mpint r || mpint s), ECDSA P-256 with SHA-256 over the signed data.
 * FIDO forms (PROTOCOL.u2f): string type, string signature (as above), byte flags, uint32 counter; the authenticator
 * signs {@code SHA-256(application) || flags || counter || SHA-256(signed data)}. Keyhold requires the
 * user-presence flag (0x01), as sshd does by default; {@code ssh-keygen -Y verify} does not check it, so a key made
 * with {@code -O no-touch-required} signs what ssh-keygen accepts and Keyhold refuses. The counter is not checked.
 * The signature type must equal the key type (so {@code webauthn-sk-ecdsa-sha2-nistp256@openssh.com} signatures and
 * RSA are refused).
 *
 * <p>Signatures are not unique (ECDSA is randomised and malleable): nothing may rely on a signature's bytes as an
 * identifier; replay is prevented by what is signed (a statement with a nonce, a single-use challenge).
 */
public final class SshSig {

    static final String BEGIN = "-----BEGIN SSH SIGNATURE-----";
    static final String END = "-----END SSH SIGNATURE-----";
    static final byte[] MAGIC = "SSHSIG".getBytes(StandardCharsets.US_ASCII);
    /** Longest armored signature accepted (an sk-ecdsa signature with a long application is under 1 KiB). */
    static final int MAX_ARMORED = 16 * 1024;

    static final int MAX_NAMESPACE = 256;
    static final int USER_PRESENT = 0x01;

    private static final ASN1ObjectIdentifier OID_ED25519 = new ASN1ObjectIdentifier("1.3.101.112");
    private static final ASN1ObjectIdentifier OID_EC = new ASN1ObjectIdentifier("1.2.840.10045.2.1");
    private static final BigInteger P256_N = SshPublicKey.P256.getOrder();

    private SshSig() {}

    /**
     * Verifies an armored {@code -----BEGIN SSH SIGNATURE-----} over {@code message} under {@code namespace} by
     * {@code key} (PROTOCOL.sshsig: hash sha256 or sha512; the signature's embedded public key must equal
     * {@code key}). Throws {@link InvalidSignatureException} on any failure.
     */
    public static void verify(SshPublicKey key, String namespace, byte[] message, String armored) {
        if (key == null || namespace == null || message == null) {
            throw new InvalidSignatureException("signature check is missing its key, namespace or message");
        }
        byte[] blob = dearmor(armored);
        SshWire.Reader r = new SshWire.Reader(blob, "SSH signature");
        if (!MessageDigest.isEqual(r.raw(MAGIC.length), MAGIC)) {
            throw new InvalidSignatureException("not an SSH signature");
        }
        if (r.u32() != 1) {
            throw new InvalidSignatureException("unsupported SSH signature version");
        }
        byte[] publicKey = r.string(1024);
        String ns = r.text(MAX_NAMESPACE);
        byte[] reserved = r.string(1024);
        String hashAlg = r.text(16);
        byte[] signature = r.string(1024);
        r.end();
        if (!key.sameBlob(publicKey)) {
            throw new InvalidSignatureException("SSH signature was made by another key");
        }
        if (!ns.equals(namespace)) {
            throw new InvalidSignatureException("SSH signature namespace is not " + namespace);
        }
        byte[] signed = signedData(ns, reserved, hashAlg, message);
        verifyRaw(key, signed, signature);
    }

    /**
     * Produces an armored SSHSIG (hash sha512, as ssh-keygen writes) for an Ed25519 or EC P-256 key pair, which
     * {@code ssh-keygen -Y verify} accepts.
     */
    public static String sign(KeyPair pair, String namespace, byte[] message) {
        checkNamespace(namespace);
        byte[] pubBlob = publicKeyBlob(pair.getPublic());
        boolean ed = startsWith(pubBlob, SshPublicKey.ED25519);
        String hashAlg = "sha512";
        byte[] reserved = new byte[0];
        byte[] signed = signedData(namespace, reserved, hashAlg, message);
        byte[] sigBlob;
        try {
            if (ed) {
                sigBlob = new SshWire.Writer()
                        .string(SshPublicKey.ED25519)
                        .string(rawSign("Ed25519", pair.getPrivate(), signed))
                        .bytes();
            } else {
                byte[] rs = rawSign("SHA256withECDSAinP1363Format", pair.getPrivate(), signed);
                byte[] inner = new SshWire.Writer()
                        .mpint(new BigInteger(1, Arrays.copyOfRange(rs, 0, 32)))
                        .mpint(new BigInteger(1, Arrays.copyOfRange(rs, 32, 64)))
                        .bytes();
                sigBlob = new SshWire.Writer()
                        .string(SshPublicKey.ECDSA_P256)
                        .string(inner)
                        .bytes();
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot sign with this key pair", e);
        }
        byte[] blob = new SshWire.Writer()
                .raw(MAGIC)
                .u32(1)
                .string(pubBlob)
                .string(namespace)
                .string(reserved)
                .string(hashAlg)
                .string(sigBlob)
                .bytes();
        return armor(blob);
    }

    /** {@code "ssh-ed25519 AAAA… comment"} (or ecdsa-sha2-nistp256) for an Ed25519 or EC P-256 public key. */
    public static String publicKeyLine(PublicKey key, String comment) {
        byte[] blob = publicKeyBlob(key);
        String type = startsWith(blob, SshPublicKey.ED25519) ? SshPublicKey.ED25519 : SshPublicKey.ECDSA_P256;
        String line = type + " " + Base64.getEncoder().encodeToString(blob);
        if (comment == null || comment.isBlank()) {
            return line;
        }
        if (comment.indexOf('\n') >= 0 || comment.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("an SSH key comment is one line");
        }
        return line + " " + comment;
    }

    // ---- internals (package-private for the tests that build signatures by hand) ----

    static byte[] signedData(String namespace, byte[] reserved, String hashAlg, byte[] message) {
        String jca = switch (hashAlg) {
            case "sha256" -> "SHA-256";
            case "sha512" -> "SHA-512";
            default -> throw new InvalidSignatureException("unsupported SSH signature hash (use sha256 or sha512)");
        };
        byte[] h;
        try {
            h = MessageDigest.getInstance(jca).digest(message);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return new SshWire.Writer()
                .raw(MAGIC)
                .string(namespace)
                .string(reserved)
                .string(hashAlg)
                .string(h)
                .bytes();
    }

    static void verifyRaw(SshPublicKey key, byte[] signed, byte[] sigBlob) {
        SshWire.Reader r = new SshWire.Reader(sigBlob, "SSH signature");
        String sigType = r.text(64);
        if (!sigType.equals(key.type())) {
            throw new InvalidSignatureException("SSH signature algorithm does not match the key");
        }
        byte[] sig = r.string(256);
        byte[] data = signed;
        if (key.securityKey()) {
            int flags = r.u8();
            long counter = r.u32();
            if ((flags & USER_PRESENT) == 0) {
                throw new InvalidSignatureException("security key signature without user presence");
            }
            data = new SshWire.Writer()
                    .raw(SshPublicKey.sha256(key.application()))
                    .u8(flags)
                    .u32(counter)
                    .raw(SshPublicKey.sha256(signed))
                    .bytes();
        }
        r.end();
        boolean ok;
        try {
            if (key.isEd25519()) {
                if (sig.length != 64) {
                    throw new InvalidSignatureException("malformed SSH signature");
                }
                ok = key.verifyEd25519(data, sig);
            } else {
                SshWire.Reader rs = new SshWire.Reader(sig, "SSH signature");
                BigInteger rr = rs.positiveMpint(32);
                BigInteger ss = rs.positiveMpint(32);
                rs.end();
                if (rr.compareTo(P256_N) >= 0 || ss.compareTo(P256_N) >= 0) {
                    throw new InvalidSignatureException("malformed SSH signature");
                }
                byte[] p1363 = new byte[64];
                put32(rr, p1363, 0);
                put32(ss, p1363, 32);
                ok = rawVerify("SHA256withECDSAinP1363Format", key.jcaKey(), data, p1363);
            }
        } catch (GeneralSecurityException e) {
            ok = false;
        }
        if (!ok) {
            throw new InvalidSignatureException("SSH signature does not verify");
        }
    }

    static byte[] dearmor(String armored) {
        if (armored == null) {
            throw new InvalidSignatureException("no SSH signature");
        }
        if (armored.length() > MAX_ARMORED) {
            throw new InvalidSignatureException("SSH signature too long");
        }
        String s = armored.strip();
        if (!s.startsWith(BEGIN) || !s.endsWith(END) || s.length() < BEGIN.length() + END.length()) {
            throw new InvalidSignatureException("not an armored SSH signature (-----BEGIN SSH SIGNATURE-----)");
        }
        String body = s.substring(BEGIN.length(), s.length() - END.length());
        StringBuilder b64 = new StringBuilder(body.length());
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                continue;
            }
            b64.append(c);
        }
        try {
            return Base64.getDecoder().decode(b64.toString());
        } catch (IllegalArgumentException e) {
            throw new InvalidSignatureException("SSH signature is not valid base64");
        }
    }

    static String armor(byte[] blob) {
        String b64 = Base64.getEncoder().encodeToString(blob);
        StringBuilder sb = new StringBuilder(BEGIN).append('\n');
        for (int i = 0; i < b64.length(); i += 70) {
            sb.append(b64, i, Math.min(b64.length(), i + 70)).append('\n');
        }
        return sb.append(END).append('\n').toString();
    }

    /** The SSH public key blob of an Ed25519 or EC P-256 JCA public key. */
    static byte[] publicKeyBlob(PublicKey key) {
        SubjectPublicKeyInfo spki;
        try {
            spki = SubjectPublicKeyInfo.getInstance(key.getEncoded());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not an Ed25519 or EC P-256 public key");
        }
        ASN1ObjectIdentifier oid = spki.getAlgorithm().getAlgorithm();
        if (oid.equals(OID_ED25519)) {
            byte[] pk = spki.getPublicKeyData().getOctets();
            if (pk.length != 32) {
                throw new IllegalArgumentException("not an Ed25519 public key");
            }
            return new SshWire.Writer().string(SshPublicKey.ED25519).string(pk).bytes();
        }
        if (oid.equals(OID_EC) && key instanceof ECPublicKey ec && isP256(ec.getParams())) {
            byte[] q = new byte[65];
            q[0] = 0x04;
            put32(ec.getW().getAffineX(), q, 1);
            put32(ec.getW().getAffineY(), q, 33);
            return new SshWire.Writer()
                    .string(SshPublicKey.ECDSA_P256)
                    .string("nistp256")
                    .string(q)
                    .bytes();
        }
        throw new IllegalArgumentException("not an Ed25519 or EC P-256 public key");
    }

    private static boolean isP256(ECParameterSpec p) {
        ECParameterSpec ref = SshPublicKey.P256;
        return p != null
                && p.getCurve().equals(ref.getCurve())
                && p.getOrder().equals(ref.getOrder())
                && p.getGenerator().equals(ref.getGenerator());
    }

    private static void checkNamespace(String namespace) {
        if (namespace == null
                || namespace.isEmpty()
                || namespace.getBytes(StandardCharsets.UTF_8).length > MAX_NAMESPACE) {
            throw new IllegalArgumentException("an SSH signature namespace is 1 to " + MAX_NAMESPACE + " bytes");
        }
    }

    private static boolean startsWith(byte[] blob, String type) {
        byte[] t = new SshWire.Writer().string(type).bytes();
        return blob.length >= t.length && Arrays.equals(blob, 0, t.length, t, 0, t.length);
    }

    static void put32(BigInteger v, byte[] out, int off) {
        byte[] b = v.toByteArray();
        int start = b.length > 32 ? b.length - 32 : 0;
        int len = b.length - start;
        System.arraycopy(b, start, out, off + 32 - len, len);
    }

    private static byte[] rawSign(String alg, PrivateKey key, byte[] data) throws GeneralSecurityException {
        Signature s = Signature.getInstance(alg);
        s.initSign(key);
        s.update(data);
        return s.sign();
    }

    private static boolean rawVerify(String alg, PublicKey key, byte[] data, byte[] sig)
            throws GeneralSecurityException {
        Signature s = Signature.getInstance(alg);
        s.initVerify(key);
        s.update(data);
        return s.verify(sig);
    }
}
