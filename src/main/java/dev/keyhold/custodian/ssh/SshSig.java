package dev.keyhold.custodian.ssh;

import dev.keyhold.custodian.InvalidSignatureException;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Interim stand-in (Ed25519 only) with the shared design's signatures, implementing OpenSSH PROTOCOL.sshsig; the
 * "ssh" branch's class replaces it.
 */
public final class SshSig {

    private static final byte[] MAGIC = "SSHSIG".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ED25519_SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private SshSig() {
    }

    public static void verify(SshPublicKey key, String namespace, byte[] message, String armored) {
        byte[] blob = dearmor(armored);
        ByteBuffer b = ByteBuffer.wrap(blob);
        try {
            byte[] magic = new byte[6];
            b.get(magic);
            if (!Arrays.equals(magic, MAGIC) || b.getInt() != 1) {
                throw new InvalidSignatureException("not an SSHSIG version 1 signature");
            }
            byte[] pub = SshPublicKey.string(b);
            String ns = new String(SshPublicKey.string(b), StandardCharsets.UTF_8);
            SshPublicKey.string(b);
            String hash = new String(SshPublicKey.string(b), StandardCharsets.US_ASCII);
            byte[] sig = SshPublicKey.string(b);
            if (!Arrays.equals(pub, key.blob())) {
                throw new InvalidSignatureException("the signature was made by another key");
            }
            if (!ns.equals(namespace)) {
                throw new InvalidSignatureException("the signature's namespace is '" + ns + "', expected '" + namespace + "'");
            }
            ByteBuffer s = ByteBuffer.wrap(sig);
            String sigType = new String(SshPublicKey.string(s), StandardCharsets.US_ASCII);
            byte[] raw = SshPublicKey.string(s);
            if (!sigType.equals("ssh-ed25519")) {
                throw new InvalidSignatureException("unsupported signature type " + sigType);
            }
            Signature v = Signature.getInstance("Ed25519");
            v.initVerify(KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(concat(
                    ED25519_SPKI_PREFIX, key.ed25519()))));
            v.update(signedData(namespace, hash, message));
            if (!v.verify(raw)) {
                throw new InvalidSignatureException("the signature does not verify");
            }
        } catch (java.nio.BufferUnderflowException | GeneralSecurityException e) {
            throw new InvalidSignatureException("malformed SSH signature");
        }
    }

    public static String sign(KeyPair pair, String namespace, byte[] message) {
        try {
            byte[] pubBlob = SshPublicKey.parse(publicKeyLine(pair.getPublic(), null)).blob();
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(pair.getPrivate());
            s.update(signedData(namespace, "sha512", message));
            ByteArrayOutputStream sig = new ByteArrayOutputStream();
            SshPublicKey.string(sig, "ssh-ed25519".getBytes(StandardCharsets.US_ASCII));
            SshPublicKey.string(sig, s.sign());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(MAGIC);
            out.writeBytes(new byte[]{0, 0, 0, 1});
            SshPublicKey.string(out, pubBlob);
            SshPublicKey.string(out, namespace.getBytes(StandardCharsets.UTF_8));
            SshPublicKey.string(out, new byte[0]);
            SshPublicKey.string(out, "sha512".getBytes(StandardCharsets.US_ASCII));
            SshPublicKey.string(out, sig.toByteArray());
            String b64 = Base64.getEncoder().encodeToString(out.toByteArray());
            StringBuilder a = new StringBuilder("-----BEGIN SSH SIGNATURE-----\n");
            for (int i = 0; i < b64.length(); i += 70) {
                a.append(b64, i, Math.min(b64.length(), i + 70)).append('\n');
            }
            return a.append("-----END SSH SIGNATURE-----\n").toString();
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot sign with this key pair", e);
        }
    }

    public static String publicKeyLine(PublicKey key, String comment) {
        byte[] x509 = key.getEncoded();
        if (!key.getAlgorithm().equals("EdDSA") && !key.getAlgorithm().equals("Ed25519") || x509.length != 44) {
            throw new IllegalArgumentException("only Ed25519 keys in this build");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SshPublicKey.string(out, "ssh-ed25519".getBytes(StandardCharsets.US_ASCII));
        SshPublicKey.string(out, Arrays.copyOfRange(x509, 12, 44));
        return "ssh-ed25519 " + Base64.getEncoder().encodeToString(out.toByteArray())
                + (comment == null || comment.isBlank() ? "" : " " + comment);
    }

    private static byte[] signedData(String namespace, String hash, byte[] message) throws GeneralSecurityException {
        String alg = switch (hash) {
            case "sha256" -> "SHA-256";
            case "sha512" -> "SHA-512";
            default -> throw new InvalidSignatureException("unsupported hash " + hash);
        };
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(MAGIC);
        SshPublicKey.string(out, namespace.getBytes(StandardCharsets.UTF_8));
        SshPublicKey.string(out, new byte[0]);
        SshPublicKey.string(out, hash.getBytes(StandardCharsets.US_ASCII));
        SshPublicKey.string(out, MessageDigest.getInstance(alg).digest(message));
        return out.toByteArray();
    }

    private static byte[] dearmor(String armored) {
        if (armored == null) {
            throw new InvalidSignatureException("no signature");
        }
        String t = armored.trim();
        String begin = "-----BEGIN SSH SIGNATURE-----";
        String end = "-----END SSH SIGNATURE-----";
        if (!t.startsWith(begin) || !t.endsWith(end)) {
            throw new InvalidSignatureException("not an armored SSH signature");
        }
        try {
            return Base64.getMimeDecoder().decode(t.substring(begin.length(), t.length() - end.length()));
        } catch (IllegalArgumentException e) {
            throw new InvalidSignatureException("the SSH signature is not base64");
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
