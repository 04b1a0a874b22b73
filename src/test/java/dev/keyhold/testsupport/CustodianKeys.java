package dev.keyhold.testsupport;

import dev.keyhold.custodian.ssh.SshSig;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Custodians' SSH keys for tests: one Ed25519 pair per principal name, generated on first use and the same for the
 * rest of the JVM (so a credential enrolled by one test still signs in the next). Signatures are real SSHSIGs that
 * {@code ssh-keygen -Y verify} accepts.
 */
public final class CustodianKeys {

    private static final Map<String, KeyPair> KEYS = new ConcurrentHashMap<>();

    private CustodianKeys() {}

    /** The principal's Ed25519 key pair (the same one every time in this JVM). */
    public static KeyPair of(String principal) {
        return KEYS.computeIfAbsent(principal, p -> {
            try {
                return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** {@code "ssh-ed25519 AAAA… <principal>"}: what the principal enrolls. */
    public static String publicKeyLine(String principal) {
        return SshSig.publicKeyLine(of(principal).getPublic(), principal);
    }

    /** An armored SSHSIG by the principal's key over {@code data} under {@code namespace} (e.g. keyhold-approval). */
    public static String sign(String principal, String namespace, byte[] data) {
        return SshSig.sign(of(principal), namespace, data);
    }
}
