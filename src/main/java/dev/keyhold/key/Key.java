package dev.keyhold.key;

import dev.keyhold.hsm.SigningAlgorithm;

import java.time.Instant;

/** One signing key version: an immutable snapshot of its row. {@code publicJwk} is the JSON of its public JWK. */
public record Key(String kid, String issuerId, SigningAlgorithm algorithm, String partition, String hsmHandle,
                  String publicJwk, KeyState state, Instant createdAt, Instant activatableAt, Instant activatedAt,
                  Instant notAfter, Instant retiredAt, Instant verifyUntil, Instant unpublishedAt, Instant destroyAt,
                  Instant destroyedAt, Instant revokedAt, String revocationReason, Instant hsmMissingAt) {
}
