package dev.keyhold.activation;

import java.util.Map;

/**
 * Body of {@code POST /v1/activations/{id}/decisions}: {@code decision} is "approve" or "reject". An approval carries
 * {@code signature} over the request's statement: {@code {"format":"sshsig","value":"-----BEGIN SSH SIGNATURE-----..."}}
 * (namespace keyhold-approval) or {@code {"format":"webauthn","credentialId","authenticatorData","clientDataJSON",
 * "signature"}} (base64url; the challenge is SHA-256 of the statement). Rejections need none.
 */
public record DecisionRequest(String decision, String comment, Map<String, Object> signature) {

    public DecisionRequest(String decision, String comment) {
        this(decision, comment, null);
    }
}
