package dev.keyhold.key;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import java.time.Instant;

/** A key on the wire: metadata and public JWK only. There is no private material to leak: it never leaves the HSM. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record KeyView(
        String kid,
        String issuerId,
        String algorithm,
        String partition,
        KeyState state,
        Instant createdAt,
        Instant activatableAt,
        Instant activatedAt,
        Instant notAfter,
        Instant retiredAt,
        Instant verifyUntil,
        Instant unpublishedAt,
        Instant destroyAt,
        Instant destroyedAt,
        Instant revokedAt,
        String revocationReason,
        boolean hsmObjectMissing,
        com.fasterxml.jackson.databind.JsonNode publicJwk,
        String activationRequestId) {

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    public static KeyView of(Key k, String activationRequestId) {
        com.fasterxml.jackson.databind.JsonNode jwk;
        try {
            jwk = JSON.readTree(k.publicJwk());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("stored public JWK of " + k.kid() + " is not JSON", e);
        }
        return new KeyView(
                k.kid(),
                k.issuerId(),
                k.algorithm().name(),
                k.partition(),
                k.state(),
                k.createdAt(),
                k.activatableAt(),
                k.activatedAt(),
                k.notAfter(),
                k.retiredAt(),
                k.verifyUntil(),
                k.unpublishedAt(),
                k.destroyAt(),
                k.destroyedAt(),
                k.revokedAt(),
                k.revocationReason(),
                k.hsmMissingAt() != null,
                jwk,
                activationRequestId);
    }
}
