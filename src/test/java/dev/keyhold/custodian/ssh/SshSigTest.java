package dev.keyhold.custodian.ssh;

import dev.keyhold.custodian.InvalidSignatureException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        assertEquals(line, SshKeygen.run(null, "-y", "-f", file.toString()).ok().out().strip());
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
}
