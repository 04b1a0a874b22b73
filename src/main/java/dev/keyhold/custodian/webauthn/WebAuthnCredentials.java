package dev.keyhold.custodian.webauthn;

import dev.keyhold.custodian.InvalidSignatureException;

/** Interim stand-in with the shared design's signatures; the "webauthn" branch's class replaces it. */
public final class WebAuthnCredentials {
    private WebAuthnCredentials() {
    }

    public record Registered(String credentialId, String publicKeySpki, String algorithm) {
    }

    public static Registered register(byte[] attestationObject, byte[] clientDataJSON, byte[] expectedChallenge,
                                      java.util.Set<String> origins, String rpId) {
        throw new InvalidSignatureException("WebAuthn registration is not available in this build");
    }

    public static void verifyAssertion(String publicKeySpki, byte[] authenticatorData, byte[] clientDataJSON,
                                       byte[] signature, byte[] expectedChallenge, java.util.Set<String> origins,
                                       String rpId) {
        throw new InvalidSignatureException("WebAuthn assertions are not available in this build");
    }
}
