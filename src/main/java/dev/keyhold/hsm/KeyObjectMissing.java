package dev.keyhold.hsm;

/**
 * Fired (asynchronously) when the HSM answered "no such object" for a key Keyhold tried to sign with: the HSM
 * reconciler then checks that key at once instead of at its next run, and raises the alarm if its private object is
 * really gone.
 */
public record KeyObjectMissing(String kid, String partition, String handle) {}
