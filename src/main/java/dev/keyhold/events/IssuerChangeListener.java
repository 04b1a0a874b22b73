package dev.keyhold.events;

/**
 * Per-issuer state derived from the database (the JWKS, signing snapshots) that must drop what it holds when
 * the issuer changes. {@link OutboxFollower} calls every such bean, for changes committed on this instance
 * and for changes other instances wrote to the outbox, so every cache follows one mechanism.
 */
public interface IssuerChangeListener {

    void invalidate(String issuerId);

    void invalidateAll();
}
