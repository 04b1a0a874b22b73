package dev.keyhold.custodian.ssh;

/** Interim stand-in with the shared design's signature; the "ssh" branch's class replaces it. */
public final class OpenSshKeyFiles {
    private OpenSshKeyFiles() {
    }

    public static String privateKeyFile(java.security.KeyPair ed25519, String comment) {
        throw new UnsupportedOperationException("OpenSSH private key files come with the ssh helper's branch");
    }
}
