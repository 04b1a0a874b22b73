package dev.keyhold.custodian;

/**
 * Body of {@code POST /v1/custodians/me/credentials}: {@code format} "sshsig" with {@code publicKey} (an
 * authorized_keys line) and {@code signature} (armored SSHSIG, namespace {@code keyhold-enroll}, over the challenge
 * text), or "webauthn" with the registration response's {@code attestationObject} and {@code clientDataJSON}
 * (base64url; the challenge is the challenge text's UTF-8 bytes). {@code challenge}: optional, which challenge was
 * signed (default: any open one of the caller).
 */
public record EnrollRequest(
        String format,
        String publicKey,
        String signature,
        String attestationObject,
        String clientDataJSON,
        String challenge) {}
