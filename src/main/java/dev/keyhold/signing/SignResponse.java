package dev.keyhold.signing;

import java.time.Instant;

/** A signed token: compact JWS, the kid that signed it and its {@code exp}. */
public record SignResponse(String token, String kid, Instant expiresAt) {}
