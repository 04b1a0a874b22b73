package dev.keyhold.custodian.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.keyhold.custodian.signature.InvalidSignatureException;
import dev.keyhold.custodian.ssh.TestSshSigs.Kind;
import dev.keyhold.custodian.ssh.TestSshSigs.W;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SshPublicKeyTest {

    @TempDir
    Path dir;

    private static String line(String type, byte[] blob) {
        return type + " " + Base64.getEncoder().encodeToString(blob);
    }

    private static void refused(String line) {
        assertThrows(InvalidSignatureException.class, () -> SshPublicKey.parse(line), line);
    }

    @Test
    void fingerprintsAndCanonicalFormsMatchSshKeygen() throws Exception {
        SshKeygen.require();
        for (String[] t : new String[][] {{"ed25519"}, {"ecdsa", "-b", "256"}}) {
            String[] args = t.length == 1 ? new String[] {"-t", t[0]} : new String[] {"-t", t[0], t[1], t[2]};
            Path key = SshKeygen.generate(dir, "k-" + t[0], args);
            String pubLine = Files.readString(Path.of(key + ".pub")).strip();
            SshPublicKey k = SshPublicKey.parse(pubLine);
            assertEquals(SshKeygen.fingerprint(dir, pubLine), k.fingerprint());
            String[] f = pubLine.split(" ");
            assertEquals(f[0] + " " + f[1], k.canonical());
            assertEquals(f[0], k.type());
            assertFalse(k.securityKey());
        }
        for (Kind kind : Kind.values()) {
            KeyPair pair = kind.ed() ? SshSigTest.ed25519() : SshSigTest.p256();
            TestSshSigs t = new TestSshSigs(pair, kind);
            SshPublicKey k = SshPublicKey.parse(t.publicLine());
            assertEquals(SshKeygen.fingerprint(dir, t.publicLine()), k.fingerprint(), kind.type);
            assertEquals(kind.sk(), k.securityKey());
            assertEquals(kind.type, k.type());
        }
    }

    @Test
    void commentAndSpacingDoNotChangeTheKey() throws Exception {
        TestSshSigs t = new TestSshSigs(SshSigTest.ed25519(), Kind.ED25519);
        SshPublicKey a = SshPublicKey.parse(t.publicLine());
        String canonical = a.canonical();
        SshPublicKey b = SshPublicKey.parse("  " + canonical.replace(" ", "\t ") + "   a comment with spaces \n");
        assertEquals(a, b);
        assertEquals(canonical, b.canonical());
        assertEquals(a.fingerprint(), b.fingerprint());
        assertFalse(canonical.contains("test@keyhold"));
        assertNotEquals(a, SshPublicKey.parse(new TestSshSigs(SshSigTest.ed25519(), Kind.ED25519).publicLine()));
    }

    @Test
    void refusesOtherKeyTypes() throws Exception {
        SshKeygen.require();
        Path rsa = SshKeygen.generate(dir, "rsa", "-t", "rsa", "-b", "2048");
        refused(Files.readString(Path.of(rsa + ".pub")));
        Path p384 = SshKeygen.generate(dir, "p384", "-t", "ecdsa", "-b", "384");
        refused(Files.readString(Path.of(p384 + ".pub")));
        byte[] one = BigInteger.ONE.toByteArray();
        refused(line(
                "ssh-dss",
                new W().str("ssh-dss").str(one).str(one).str(one).str(one).get()));
        // an ed25519 blob under a type or certificate name Keyhold does not take
        byte[] ed = TestSshSigs.rawEd25519(SshSigTest.ed25519());
        refused(line(
                "ssh-ed25519-cert-v01@openssh.com",
                new W().str("ssh-ed25519-cert-v01@openssh.com").str(ed).get()));
        refused("from=\"10.0.0.1\" "
                + line("ssh-ed25519", new W().str("ssh-ed25519").str(ed).get()));
    }

    @Test
    void refusesMalformedEncodings() throws Exception {
        byte[] ed = TestSshSigs.rawEd25519(SshSigTest.ed25519());
        byte[] good = new W().str("ssh-ed25519").str(ed).get();
        SshPublicKey.parse(line("ssh-ed25519", good)); // the baseline parses
        refused(null);
        refused("");
        refused("ssh-ed25519");
        refused("ssh-ed25519 AAAA$$$$");
        refused("ssh-ed25519 " + Base64.getEncoder().encodeToString(good).substring(1));
        refused(line("ssh-ed25519", Arrays.copyOf(good, good.length + 1))); // trailing byte
        refused(line("ssh-ed25519", Arrays.copyOf(good, good.length - 1))); // truncated
        refused(line(
                "ssh-ed25519",
                new W().str("ssh-ed25519").str(Arrays.copyOf(ed, 31)).get()));
        refused(line("ssh-ed25519", new W().str("ssh-ed25519").str(ed).str("x").get()));
        refused(line("ecdsa-sha2-nistp256", good)); // type differs from blob
        refused(line("ssh-ed25519", good) + "\nssh-ed25519 "
                + Base64.getEncoder().encodeToString(good));
        refused("ssh-ed25519 " + "A".repeat(9000));
        // huge length prefix
        refused(line(
                "ssh-ed25519",
                new W().u32(0x7fffffffL).raw("ssh-ed25519".getBytes()).get()));
        // sk- key without an application
        refused(line(
                "sk-ssh-ed25519@openssh.com",
                new W().str("sk-ssh-ed25519@openssh.com").str(ed).str("").get()));
    }

    @Test
    void refusesPointsOffTheCurve() throws Exception {
        byte[] q = TestSshSigs.point(SshSigTest.p256());
        SshPublicKey.parse(line(
                "ecdsa-sha2-nistp256",
                new W().str("ecdsa-sha2-nistp256").str("nistp256").str(q).get()));
        byte[] bent = q.clone();
        bent[64] ^= 1;
        refused(line(
                "ecdsa-sha2-nistp256",
                new W().str("ecdsa-sha2-nistp256").str("nistp256").str(bent).get()));
        byte[] compressed = Arrays.copyOf(q, 33);
        compressed[0] = (byte) (2 + (q[64] & 1));
        refused(line(
                "ecdsa-sha2-nistp256",
                new W()
                        .str("ecdsa-sha2-nistp256")
                        .str("nistp256")
                        .str(compressed)
                        .get()));
        refused(line(
                "ecdsa-sha2-nistp256",
                new W().str("ecdsa-sha2-nistp256").str("nistp384").str(q).get()));
        byte[] infinity = new byte[65];
        infinity[0] = 4;
        refused(line(
                "ecdsa-sha2-nistp256",
                new W().str("ecdsa-sha2-nistp256").str("nistp256").str(infinity).get()));
        byte[] sk = new W()
                .str("sk-ecdsa-sha2-nistp256@openssh.com")
                .str("nistp256")
                .str(bent)
                .str("ssh:")
                .get();
        refused(line("sk-ecdsa-sha2-nistp256@openssh.com", sk));
        // Ed25519: the neutral element (small order) and a non-canonical encoding (y >= p)
        byte[] identity = new byte[32];
        identity[0] = 1;
        refused(line("ssh-ed25519", new W().str("ssh-ed25519").str(identity).get()));
        byte[] ff = new byte[32];
        Arrays.fill(ff, (byte) 0xff);
        ff[31] = 0x7f;
        refused(line("ssh-ed25519", new W().str("ssh-ed25519").str(ff).get()));
    }
}
