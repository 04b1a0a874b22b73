package dev.keyhold.jwks;

/**
 * A per-issuer cache besides the JWKS that must hear of changes made by other instances. {@link OutboxFollower}
 * calls every such bean when the outbox moves, so one poll serves all caches.
 */
public interface IssuerChangeListener {

    void invalidate(String issuerId);

    void invalidateAll();
}
