package dev.keyhold.audit;

import java.time.Instant;

/** Filters of {@code GET /v1/audit}; null means "any". {@code from} is inclusive, {@code to} exclusive. */
public record AuditQuery(
        String issuerId, String kid, String actor, String action, Instant from, Instant to, long after, int limit) {}
