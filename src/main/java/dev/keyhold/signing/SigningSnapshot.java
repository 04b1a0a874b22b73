package dev.keyhold.signing;

import dev.keyhold.domain.Key;
import dev.keyhold.issuer.Issuer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * What signing needs to know about one issuer, cached in memory: the issuer (status, uri, audiences, signers,
 * tokenTtl) and its ACTIVE key, if any, with the JWS header already encoded. Deadlines are still checked
 * against the clock at every use: a cached snapshot never extends a key's life.
 */
record SigningSnapshot(Issuer issuer, Key active, String encodedHeader, String evidenceProblem) {

    static SigningSnapshot of(Issuer issuer, Key active) {
        return of(issuer, active, null);
    }

    /** {@code evidenceProblem}: why the issuer's approval evidence did not verify (then nothing signs), or null. */
    static SigningSnapshot of(Issuer issuer, Key active, String evidenceProblem) {
        String header = null;
        if (active != null) {
            // kid and alg come from the key row; both are plain ASCII (base64url thumbprint, JWA name).
            String json =
                    "{\"alg\":\"" + active.algorithm().name() + "\",\"kid\":\"" + active.kid() + "\",\"typ\":\"JWT\"}";
            header = Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.US_ASCII));
        }
        return new SigningSnapshot(issuer, active, header, evidenceProblem);
    }
}
