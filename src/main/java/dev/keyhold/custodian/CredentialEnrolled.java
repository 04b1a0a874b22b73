package dev.keyhold.custodian;

/** Fired (outside any transaction) after a custodian's credential was enrolled and sealed. */
public record CredentialEnrolled(String principal, String credentialId) {}
