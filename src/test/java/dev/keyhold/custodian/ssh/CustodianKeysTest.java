package dev.keyhold.custodian.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.keyhold.custodian.signature.InvalidSignatureException;
import dev.keyhold.testsupport.CustodianKeys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The test-support custodian keys, and key pairs from another provider (BouncyCastle's PKCS#8 v2 encoding). */
class CustodianKeysTest {

    @TempDir
    Path dir;

    @Test
    void sameKeyPerPrincipalAndSignaturesVerify() {
        assertSame(CustodianKeys.of("alice"), CustodianKeys.of("alice"));
        assertNotEquals(CustodianKeys.publicKeyLine("alice"), CustodianKeys.publicKeyLine("bob"));
        byte[] statement = "{\"type\":\"keyhold.approval.v1\"}".getBytes(StandardCharsets.UTF_8);
        String sig = CustodianKeys.sign("alice", "keyhold-approval", statement);
        SshPublicKey alice = SshPublicKey.parse(CustodianKeys.publicKeyLine("alice"));
        SshSig.verify(alice, "keyhold-approval", statement, sig);
        SshPublicKey bob = SshPublicKey.parse(CustodianKeys.publicKeyLine("bob"));
        assertThrows(InvalidSignatureException.class, () -> SshSig.verify(bob, "keyhold-approval", statement, sig));
        assertEquals("ssh-ed25519", alice.type());
    }

    @Test
    void bouncyCastleEd25519PairsSignAndMakeKeyFiles() throws Exception {
        KeyPair pair = KeyPairGenerator.getInstance("Ed25519", new BouncyCastleProvider())
                .generateKeyPair();
        String line = SshSig.publicKeyLine(pair.getPublic(), "bc");
        byte[] msg = "m".getBytes(StandardCharsets.UTF_8);
        SshSig.verify(SshPublicKey.parse(line), "keyhold-enroll", msg, SshSig.sign(pair, "keyhold-enroll", msg));
        SshKeygen.require();
        Path file = dir.resolve("bc");
        SshKeygen.writePrivate(file, OpenSshKeyFiles.privateKeyFile(pair, "bc"));
        assertEquals(
                line,
                SshKeygen.run(null, "-y", "-f", file.toString()).ok().out().strip());
        SshSig.verify(SshPublicKey.parse(line), "keyhold-approval", msg, SshKeygen.sign(file, "keyhold-approval", msg));
    }
}
