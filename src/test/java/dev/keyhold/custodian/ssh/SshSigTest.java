package dev.keyhold.custodian.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.keyhold.custodian.signature.InvalidSignatureException;
import dev.keyhold.custodian.ssh.TestSshSigs.Kind;
import dev.keyhold.custodian.ssh.TestSshSigs.W;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SshSigTest {

    static final String NS = "keyhold-approval";
    static final byte[] MSG = "{\"type\":\"keyhold.approval.v1\",\"nonce\":\"x\"}".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    static KeyPair ed25519() throws Exception {
        return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    }

    static KeyPair p256() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    @Test
    void sshKeygenEd25519SignatureVerifies() throws Exception {
        SshKeygen.require();
        Path key = SshKeygen.generate(dir, "ed", "-t", "ed25519");
        SshPublicKey pub = SshPublicKey.parse(Files.readString(Path.of(key + ".pub")));
        SshSig.verify(pub, NS, MSG, SshKeygen.sign(key, NS, MSG));
        SshSig.verify(pub, NS, MSG, SshKeygen.sign(key, NS, MSG, "-O", "hashalg=sha256"));
    }

    @Test
    void sshKeygenEcdsaSignatureVerifies() throws Exception {
        SshKeygen.require();
        Path key = SshKeygen.generate(dir, "ec", "-t", "ecdsa", "-b", "256");
        SshPublicKey pub = SshPublicKey.parse(Files.readString(Path.of(key + ".pub")));
        for (int i = 0; i < 5; i++) { // r or s with the high bit set (mpint leading zero) comes up about half the time
            SshSig.verify(pub, NS, MSG, SshKeygen.sign(key, NS, MSG));
        }
        SshSig.verify(pub, NS, MSG, SshKeygen.sign(key, NS, MSG, "-O", "hashalg=sha256"));
    }

    @Test
    void javaSignaturesVerifyInSshKeygen() throws Exception {
        SshKeygen.require();
        for (KeyPair pair : new KeyPair[] {ed25519(), p256()}) {
            String line = SshSig.publicKeyLine(pair.getPublic(), "alice@test");
            for (int i = 0; i < 4; i++) {
                String sig = SshSig.sign(pair, NS, MSG);
                SshKeygen.Result ok = SshKeygen.verify(dir, line, NS, MSG, sig);
                assertEquals(0, ok.exit(), ok.err() + ok.out());
                SshSig.verify(SshPublicKey.parse(line), NS, MSG, sig);
                SshKeygen.Result wrongNs = SshKeygen.verify(dir, line, "keyhold-enroll", MSG, sig);
                assertTrue(wrongNs.exit() != 0, "ssh-keygen accepted a signature for another namespace");
            }
        }
    }

    @Test
    void javaWrittenPrivateKeySignsInSshKeygen() throws Exception {
        SshKeygen.require();
        KeyPair pair = ed25519();
        Path file = dir.resolve("alice");
        SshKeygen.writePrivate(file, OpenSshKeyFiles.privateKeyFile(pair, "alice@keyhold"));
        String line = SshSig.publicKeyLine(pair.getPublic(), "alice@keyhold");
        assertEquals(
                line,
                SshKeygen.run(null, "-y", "-f", file.toString()).ok().out().strip());
        String sig = SshKeygen.sign(file, NS, MSG);
        SshSig.verify(SshPublicKey.parse(line), NS, MSG, sig);
    }

    @Test
    void refusesWrongNamespaceMessageOrKey() throws Exception {
        KeyPair pair = ed25519();
        SshPublicKey pub = SshPublicKey.parse(SshSig.publicKeyLine(pair.getPublic(), null));
        String sig = SshSig.sign(pair, NS, MSG);
        SshSig.verify(pub, NS, MSG, sig);
        assertThrows(InvalidSignatureException.class, () -> SshSig.verify(pub, "keyhold-enroll", MSG, sig));
        assertThrows(InvalidSignatureException.class, () -> SshSig.verify(pub, NS, "other".getBytes(), sig));
        SshPublicKey other = SshPublicKey.parse(SshSig.publicKeyLine(ed25519().getPublic(), null));
        assertThrows(InvalidSignatureException.class, () -> SshSig.verify(other, NS, MSG, sig));
    }

    private static void refused(SshPublicKey key, String armored) {
        assertThrows(InvalidSignatureException.class, () -> SshSig.verify(key, NS, MSG, armored));
    }

    private static KeyPair pairFor(Kind kind) throws Exception {
        return kind.ed() ? ed25519() : p256();
    }

    @Test
    void handBuiltSignaturesOfEveryKindVerifyHereAndInSshKeygen() throws Exception {
        SshKeygen.require();
        for (Kind kind : Kind.values()) {
            TestSshSigs t = new TestSshSigs(pairFor(kind), kind);
            for (String hash : new String[] {"sha256", "sha512"}) {
                t.hashAlg = hash;
                String sig = t.sign(MSG);
                SshSig.verify(SshPublicKey.parse(t.publicLine()), NS, MSG, sig);
                SshKeygen.Result r = SshKeygen.verify(dir, t.publicLine(), NS, MSG, sig);
                assertEquals(0, r.exit(), kind + " " + hash + ": " + r.err() + r.out());
            }
        }
    }

    @Test
    void securityKeySignatureWithoutUserPresenceIsRefused() throws Exception {
        SshKeygen.require();
        for (Kind kind : new Kind[] {Kind.SK_ED25519, Kind.SK_ECDSA}) {
            TestSshSigs t = new TestSshSigs(pairFor(kind), kind);
            SshPublicKey key = SshPublicKey.parse(t.publicLine());
            t.flags = 0x05; // user present and verified
            SshSig.verify(key, NS, MSG, t.sign(MSG));
            t.flags = 0x04; // user verified, not present: signed correctly, yet refused
            String noTouch = t.sign(MSG);
            InvalidSignatureException e =
                    assertThrows(InvalidSignatureException.class, () -> SshSig.verify(key, NS, MSG, noTouch));
            assertTrue(e.getMessage().contains("user presence"), e.getMessage());
            // the signature itself is sound: ssh-keygen -Y verify (which does not ask for presence) accepts it
            SshKeygen.Result lenient = SshKeygen.verify(dir, t.publicLine(), NS, MSG, noTouch);
            assertEquals(0, lenient.exit(), lenient.err() + lenient.out());
            // flags are signed: setting the bit afterwards breaks the signature
            byte[] blob = TestSshSigs.dearmor(noTouch);
            blob[blob.length - 5] |= 0x01;
            refused(key, TestSshSigs.armor(blob));
            // another application (relying party) under the same key material
            TestSshSigs otherApp = new TestSshSigs(t.pair, kind);
            otherApp.application = "ssh:other";
            refused(key, otherApp.sign(MSG));
        }
    }

    @Test
    void refusesBentFields() throws Exception {
        for (Kind kind : Kind.values()) {
            KeyPair pair = pairFor(kind);
            SshPublicKey key = SshPublicKey.parse(new TestSshSigs(pair, kind).publicLine());
            SshSig.verify(key, NS, MSG, new TestSshSigs(pair, kind).sign(MSG)); // the baseline verifies
            TestSshSigs t;
            t = new TestSshSigs(pair, kind);
            t.hashAlg = "sha1";
            refused(key, t.sign(MSG));
            t = new TestSshSigs(pair, kind);
            t.hashAlg = "sha384";
            refused(key, t.sign(MSG));
            t = new TestSshSigs(pair, kind);
            t.version = 2;
            refused(key, t.sign(MSG));
            t = new TestSshSigs(pair, kind);
            t.magic = "SSHSIH";
            refused(key, t.sign(MSG));
            t = new TestSshSigs(pair, kind);
            t.trailing = new byte[] {0};
            refused(key, t.sign(MSG));
            t = new TestSshSigs(pair, kind);
            t.namespace = "Keyhold-approval";
            refused(key, t.sign(MSG));
            t = new TestSshSigs(pair, kind);
            t.sigType = kind.ed() ? "ecdsa-sha2-nistp256" : "ssh-ed25519";
            refused(key, t.sign(MSG));
        }
    }

    @Test
    void reservedFieldIsSignedAndOtherwiseIgnored() throws Exception {
        TestSshSigs t = new TestSshSigs(ed25519(), Kind.ED25519);
        SshPublicKey key = SshPublicKey.parse(t.publicLine());
        t.reserved = "future".getBytes(StandardCharsets.UTF_8);
        String sig = t.sign(MSG);
        SshSig.verify(key, NS, MSG, sig);
        byte[] blob = TestSshSigs.dearmor(sig);
        int at = indexOf(blob, t.reserved);
        blob[at] = 'F';
        refused(key, TestSshSigs.armor(blob));
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        for (int i = 0; i + needle.length <= hay.length; i++) {
            if (Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    @Test
    void refusesTamperedAndTruncatedSignatures() throws Exception {
        for (KeyPair pair : new KeyPair[] {ed25519(), p256()}) {
            SshPublicKey key = SshPublicKey.parse(SshSig.publicKeyLine(pair.getPublic(), "x"));
            String sig = SshSig.sign(pair, NS, MSG);
            SshSig.verify(key, NS, MSG, sig);
            byte[] blob = TestSshSigs.dearmor(sig);
            for (int back : new int[] {1, 20, 40}) {
                byte[] bent = blob.clone();
                bent[bent.length - back] ^= 0x01;
                refused(key, TestSshSigs.armor(bent));
            }
            String[] lines = sig.split("\n");
            StringBuilder cut = new StringBuilder();
            for (int i = 0; i < lines.length; i++) {
                if (i != lines.length - 2) { // drop the last base64 line
                    cut.append(lines[i]).append('\n');
                }
            }
            refused(key, cut.toString());
            refused(key, sig.replace("-----END SSH SIGNATURE-----", ""));
            refused(key, sig.replace("-----BEGIN SSH SIGNATURE-----", "-----BEGIN SSH SIGNATURE----"));
            refused(key, sig.substring(0, sig.length() / 2));
            refused(key, TestSshSigs.armor(Arrays.copyOf(blob, blob.length - 1)));
            refused(key, sig.replace("A", "*"));
            refused(key, "");
            refused(key, null);
            // whitespace does not matter, size does
            SshSig.verify(key, NS, MSG, "\r\n" + sig.replace("\n", "\r\n") + "  ");
            String padded = sig.replace("\n", "\n" + " ".repeat(4000));
            assertTrue(padded.length() > 16 * 1024);
            refused(key, padded);
        }
    }

    @Test
    void refusesNonCanonicalEcdsaNumbers() throws Exception {
        KeyPair pair = p256();
        TestSshSigs t = new TestSshSigs(pair, Kind.ECDSA);
        SshPublicKey key = SshPublicKey.parse(t.publicLine());
        byte[] good = t.signatureBlob(MSG);
        SshSig.verify(key, NS, MSG, TestSshSigs.armor(t.blob(MSG, good)));
        // rebuild the (r, s) pair with r + n (same value mod n) and with a superfluous leading zero
        SshWire.Reader r = new SshWire.Reader(good, "t");
        r.text(64);
        SshWire.Reader rs = new SshWire.Reader(r.string(256), "t");
        BigInteger rr = rs.positiveMpint(32);
        BigInteger ss = rs.positiveMpint(32);
        BigInteger n = SshPublicKey.P256.getOrder();
        byte[] plusN = new W()
                .str("ecdsa-sha2-nistp256")
                .str(new W().str(rr.add(n).toByteArray()).str(ss.toByteArray()).get())
                .get();
        refused(key, TestSshSigs.armor(t.blob(MSG, plusN)));
        byte[] rb = rr.toByteArray();
        byte[] padded = new byte[rb.length + 1];
        System.arraycopy(rb, 0, padded, 1, rb.length);
        byte[] zeroPad = new W()
                .str("ecdsa-sha2-nistp256")
                .str(new W().str(padded).str(ss.toByteArray()).get())
                .get();
        refused(key, TestSshSigs.armor(t.blob(MSG, zeroPad)));
        byte[] negated = new W()
                .str("ecdsa-sha2-nistp256")
                .str(new W()
                        .str(rr.toByteArray())
                        .str(n.subtract(ss).toByteArray())
                        .get())
                .get();
        SshSig.verify(key, NS, MSG, TestSshSigs.armor(t.blob(MSG, negated))); // (r, n - s) is valid ECDSA
    }

    @Test
    void rsaSignaturesAreRefused() throws Exception {
        SshKeygen.require();
        Path rsa = SshKeygen.generate(dir, "rsa", "-t", "rsa", "-b", "2048");
        String sig = SshKeygen.sign(rsa, NS, MSG);
        assertThrows(
                InvalidSignatureException.class, () -> SshPublicKey.parse(Files.readString(Path.of(rsa + ".pub"))));
        SshPublicKey ed = SshPublicKey.parse(SshSig.publicKeyLine(ed25519().getPublic(), null));
        refused(ed, sig);
    }

    @Test
    void signRefusesOtherKeysAndEmptyNamespaces() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp384r1"));
        KeyPair p384 = g.generateKeyPair();
        assertThrows(IllegalArgumentException.class, () -> SshSig.sign(p384, NS, MSG));
        assertThrows(IllegalArgumentException.class, () -> SshSig.publicKeyLine(p384.getPublic(), null));
        assertThrows(IllegalArgumentException.class, () -> SshSig.sign(ed25519(), "", MSG));
        assertThrows(IllegalArgumentException.class, () -> OpenSshKeyFiles.privateKeyFile(p256(), "x"));
    }
}
