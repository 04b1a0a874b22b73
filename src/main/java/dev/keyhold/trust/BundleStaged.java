package dev.keyhold.trust;

/** Fired (CDI) when a bundle was computed in a transaction; observed after commit to sign it at once. */
public record BundleStaged(String issuerId, long sequence) {}
