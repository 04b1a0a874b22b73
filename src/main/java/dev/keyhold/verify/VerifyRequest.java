package dev.keyhold.verify;

/** Body of {@code POST /v1/verify}. */
public record VerifyRequest(String token) {}
