package dev.keyhold.signing;

import java.util.Map;

/**
 * Body of {@code POST /v1/issuers/{id}/sign}: the claims to sign and an optional lifetime (ISO-8601 duration,
 * at most the issuer's tokenTtl; the default is tokenTtl).
 */
public record SignRequest(Map<String, Object> claims, String ttl) {}
