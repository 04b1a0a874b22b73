package dev.keyhold.custodian;

import dev.keyhold.custodian.signature.InvalidSignatureException;
import dev.keyhold.custodian.ssh.SshPublicKey;
import dev.keyhold.custodian.ssh.SshSig;
import dev.keyhold.custodian.webauthn.WebAuthnCredentials;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.Objects;

/**
 * Checks one custodian signature over a statement's exact bytes with one credential entry of a policy document:
 * SSHSIG under namespace {@value #NAMESPACE}, or a WebAuthn assertion whose challenge is SHA-256 of the statement.
 */
@ApplicationScoped
public class ApprovalSignatures {

    public static final String NAMESPACE = "keyhold-approval";

    @Inject
    WebAuthnSettings webauthn;

    /** Throws {@link InvalidSignatureException} unless {@code signature} is {@code credential}'s over {@code statement}. */
    public void verify(Map<String, Object> credential, String statement, Map<String, Object> signature) {
        byte[] bytes = statement.getBytes(StandardCharsets.UTF_8);
        String format = String.valueOf(signature.get("format"));
        if (!format.equals(credential.get("format"))) {
            throw new InvalidSignatureException("the signature's format does not match the credential");
        }
        switch (format) {
            case "sshsig" ->
                SshSig.verify(
                        SshPublicKey.parse((String) credential.get("publicKey")),
                        NAMESPACE,
                        bytes,
                        text(signature, "value"));
            case "webauthn" -> {
                if (!Objects.equals(signature.get("credentialId"), credential.get("credentialId"))
                        && !Objects.equals(signature.get("credentialId"), credential.get("id"))) {
                    throw new InvalidSignatureException("the assertion is by another credential");
                }
                WebAuthnCredentials.verifyAssertion(
                        (String) credential.get("publicKey"),
                        Credentials.decode(text(signature, "authenticatorData")),
                        Credentials.decode(text(signature, "clientDataJSON")),
                        Credentials.decode(text(signature, "signature")),
                        sha256(bytes),
                        webauthn.origins(),
                        webauthn.rpId());
            }
            default -> throw new InvalidSignatureException("signature.format must be \"sshsig\" or \"webauthn\"");
        }
    }

    private static String text(Map<String, Object> m, String field) {
        if (!(m.get(field) instanceof String s) || s.isEmpty()) {
            throw new InvalidSignatureException("signature." + field + " is required");
        }
        return s;
    }

    public static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
