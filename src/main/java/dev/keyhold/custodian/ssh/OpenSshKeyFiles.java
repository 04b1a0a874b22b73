package dev.keyhold.custodian.ssh;

import java.io.IOException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/**
 * Writes OpenSSH private key files (OpenSSH PROTOCOL.key), unencrypted, for Ed25519 pairs:
 * <pre>
 * "openssh-key-v1" 0x00
 * string ciphername "none", string kdfname "none", string kdfoptions "", uint32 1 (number of keys)
 * string public key blob (string "ssh-ed25519", string pk)
 * string private section:
 *     uint32 checkint, uint32 checkint (equal, random)
 *     string "ssh-ed25519", string pk (32), string seed || pk (64), string comment
 *     padding 1, 2, 3, … up to a multiple of 8 bytes
 * </pre>
 * armored as {@code -----BEGIN OPENSSH PRIVATE KEY-----} with base64 lines of 70 characters. The result holds a
 * private key: the caller writes it with mode 600 and never logs it.
 */
public final class OpenSshKeyFiles {

    private static final ASN1ObjectIdentifier OID_ED25519 = new ASN1ObjectIdentifier("1.3.101.112");
    private static final SecureRandom RANDOM = new SecureRandom();

    private OpenSshKeyFiles() {}

    /** An unencrypted "-----BEGIN OPENSSH PRIVATE KEY-----" file for an Ed25519 pair, readable by ssh-keygen -Y sign. */
    public static String privateKeyFile(KeyPair ed25519, String comment) {
        String c = comment == null ? "" : comment;
        if (c.indexOf('\n') >= 0 || c.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("an SSH key comment is one line");
        }
        byte[] pk = ed25519Public(ed25519);
        byte[] seed = ed25519Seed(ed25519);
        byte[] secret = Arrays.copyOf(seed, 64);
        System.arraycopy(pk, 0, secret, 32, 32);
        byte[] pubBlob =
                new SshWire.Writer().string(SshPublicKey.ED25519).string(pk).bytes();
        int check = RANDOM.nextInt();
        SshWire.Writer priv = new SshWire.Writer()
                .u32(check & 0xffffffffL)
                .u32(check & 0xffffffffL)
                .string(SshPublicKey.ED25519)
                .string(pk)
                .string(secret)
                .string(c);
        int len = priv.bytes().length;
        for (int i = 1; (len + i - 1) % 8 != 0; i++) {
            priv.u8(i);
        }
        byte[] privBytes = priv.bytes();
        byte[] file = new SshWire.Writer()
                .raw("openssh-key-v1\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .string("none")
                .string("none")
                .string(new byte[0])
                .u32(1)
                .string(pubBlob)
                .string(privBytes)
                .bytes();
        Arrays.fill(secret, (byte) 0);
        Arrays.fill(seed, (byte) 0);
        Arrays.fill(privBytes, (byte) 0);
        String b64 = Base64.getEncoder().encodeToString(file);
        Arrays.fill(file, (byte) 0);
        StringBuilder sb = new StringBuilder("-----BEGIN OPENSSH PRIVATE KEY-----\n");
        for (int i = 0; i < b64.length(); i += 70) {
            sb.append(b64, i, Math.min(b64.length(), i + 70)).append('\n');
        }
        return sb.append("-----END OPENSSH PRIVATE KEY-----\n").toString();
    }

    static byte[] ed25519Public(KeyPair pair) {
        SubjectPublicKeyInfo spki =
                SubjectPublicKeyInfo.getInstance(pair.getPublic().getEncoded());
        byte[] pk = spki.getPublicKeyData().getOctets();
        if (!spki.getAlgorithm().getAlgorithm().equals(OID_ED25519) || pk.length != 32) {
            throw new IllegalArgumentException("not an Ed25519 key pair");
        }
        return pk;
    }

    static byte[] ed25519Seed(KeyPair pair) {
        byte[] enc = pair.getPrivate().getEncoded();
        if (enc == null) {
            throw new IllegalArgumentException("the Ed25519 private key is not extractable");
        }
        try {
            PrivateKeyInfo pki = PrivateKeyInfo.getInstance(enc);
            if (!pki.getPrivateKeyAlgorithm().getAlgorithm().equals(OID_ED25519)) {
                throw new IllegalArgumentException("not an Ed25519 key pair");
            }
            byte[] seed = ASN1OctetString.getInstance(pki.parsePrivateKey()).getOctets();
            if (seed.length != 32) {
                throw new IllegalArgumentException("not an Ed25519 key pair");
            }
            return seed;
        } catch (IOException e) {
            throw new IllegalArgumentException("not an Ed25519 key pair");
        } finally {
            Arrays.fill(enc, (byte) 0);
        }
    }
}
