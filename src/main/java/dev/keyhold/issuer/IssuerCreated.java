package dev.keyhold.issuer;

/**
 * Fired synchronously inside the transaction that creates an issuer, after its row is written: observers add what
 * belongs to a new issuer (its policy version 1) in that transaction, or make the creation fail.
 */
public record IssuerCreated(IssuerEntity issuer) {}
