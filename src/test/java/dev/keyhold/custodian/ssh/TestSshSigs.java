package dev.keyhold.custodian.ssh;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.util.Arrays;
import java.util.Base64;

/**
 * Builds SSH public keys and SSHSIG signatures by hand, independently of the production encoder, from software key
 * pairs: including the FIDO (sk-) forms of PROTOCOL.u2f, which need a security key in real life. Every field can be
 * bent, so a refusal test changes exactly one thing of a signature that otherwise verifies.
 */
final class TestSshSigs {

    enum Kind {
        ED25519("ssh-ed25519"),
        ECDSA("ecdsa-sha2-nistp256"),
        SK_ED25519("sk-ssh-ed25519@openssh.com"),
        SK_ECDSA("sk-ecdsa-sha2-nistp256@openssh.com");

        final String type;

        Kind(String type) {
            this.type = type;
        }

        boolean ed() {
            return this == ED25519 || this == SK_ED25519;
        }

        boolean sk() {
            return this == SK_ED25519 || this == SK_ECDSA;
        }
    }

    final KeyPair pair;
    final Kind kind;
    String application = "ssh:";
    String magic = "SSHSIG";
    int version = 1;
    String namespace = SshSigTest.NS;
    byte[] reserved = new byte[0];
    String hashAlg = "sha512";
    String sigType;
    int flags = 0x01;
    long counter = 7;
    byte[] trailing = new byte[0];

    TestSshSigs(KeyPair pair, Kind kind) {
        this.pair = pair;
        this.kind = kind;
        this.sigType = kind.type;
    }

    static final class W {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final DataOutputStream out = new DataOutputStream(bytes);

        W raw(byte[] b) {
            try {
                out.write(b);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        W u32(long v) {
            try {
                out.writeInt((int) v);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        W u8(int v) {
            bytes.write(v);
            return this;
        }

        W str(byte[] b) {
            return u32(b.length).raw(b);
        }

        W str(String s) {
            return str(s.getBytes(StandardCharsets.UTF_8));
        }

        byte[] get() {
            return bytes.toByteArray();
        }
    }

    static byte[] rawEd25519(KeyPair pair) {
        byte[] enc = pair.getPublic().getEncoded();
        return Arrays.copyOfRange(enc, enc.length - 32, enc.length); // X.509 SPKI: 12-byte header + 32-byte key
    }

    static byte[] point(KeyPair pair) {
        ECPublicKey k = (ECPublicKey) pair.getPublic();
        byte[] q = new byte[65];
        q[0] = 4;
        fixed32(k.getW().getAffineX(), q, 1);
        fixed32(k.getW().getAffineY(), q, 33);
        return q;
    }

    static void fixed32(BigInteger v, byte[] out, int off) {
        byte[] b = v.toByteArray();
        int start = Math.max(0, b.length - 32);
        System.arraycopy(b, start, out, off + 32 - (b.length - start), b.length - start);
    }

    byte[] publicBlob() {
        W w = new W().str(kind.type);
        if (kind.ed()) {
            w.str(rawEd25519(pair));
        } else {
            w.str("nistp256").str(point(pair));
        }
        if (kind.sk()) {
            w.str(application);
        }
        return w.get();
    }

    String publicLine() {
        return kind.type + " " + Base64.getEncoder().encodeToString(publicBlob()) + " test@keyhold";
    }

    static byte[] digest(String alg, byte[] data) {
        try {
            return MessageDigest.getInstance(alg).digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    byte[] signatureBlob(byte[] message) throws GeneralSecurityException {
        String jcaHash = switch (hashAlg) {
            case "sha256" -> "SHA-256";
            case "sha1" -> "SHA-1";
            default -> "SHA-512";
        };
        byte[] toSign = new W()
                .raw("SSHSIG".getBytes(StandardCharsets.US_ASCII))
                .str(namespace)
                .str(reserved)
                .str(hashAlg)
                .str(digest(jcaHash, message))
                .get();
        if (kind.sk()) {
            toSign = new W()
                    .raw(digest("SHA-256", application.getBytes(StandardCharsets.UTF_8)))
                    .u8(flags)
                    .u32(counter)
                    .raw(digest("SHA-256", toSign))
                    .get();
        }
        byte[] sig;
        if (kind.ed()) {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(pair.getPrivate());
            s.update(toSign);
            sig = s.sign();
        } else {
            Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
            s.initSign(pair.getPrivate());
            s.update(toSign);
            byte[] rs = s.sign();
            sig = new W()
                    .str(new BigInteger(1, Arrays.copyOf(rs, 32)).toByteArray())
                    .str(new BigInteger(1, Arrays.copyOfRange(rs, 32, 64)).toByteArray())
                    .get();
        }
        W w = new W().str(sigType).str(sig);
        if (kind.sk()) {
            w.u8(flags).u32(counter);
        }
        return w.get();
    }

    String sign(byte[] message) throws GeneralSecurityException {
        return armor(blob(message, signatureBlob(message)));
    }

    byte[] blob(byte[] message, byte[] sigBlob) {
        return new W()
                .raw(magic.getBytes(StandardCharsets.US_ASCII))
                .u32(version)
                .str(publicBlob())
                .str(namespace)
                .str(reserved)
                .str(hashAlg)
                .str(sigBlob)
                .raw(trailing)
                .get();
    }

    static String armor(byte[] blob) {
        String b64 = Base64.getMimeEncoder(70, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(blob);
        return "-----BEGIN SSH SIGNATURE-----\n" + b64 + "\n-----END SSH SIGNATURE-----\n";
    }

    static byte[] dearmor(String armored) {
        String body = armored.replace("-----BEGIN SSH SIGNATURE-----", "").replace("-----END SSH SIGNATURE-----", "");
        return Base64.getMimeDecoder().decode(body);
    }
}
