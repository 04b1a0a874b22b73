package dev.keyhold.canary;

/** One forged token: the reason it must be rejected with, and what the engine answered. */
public record CanaryResult(String name, String expected, String actual, boolean passed) {}
