package dev.keyhold.security;

/** The roles SPEC names. Custodian and signer rights are further scoped per issuer by {@link IssuerAccess}. */
public final class Roles {
    public static final String ADMIN = "admin";
    public static final String CUSTODIAN = "custodian";
    public static final String SCHEDULER = "scheduler";
    public static final String SIGNER = "signer";
    public static final String AUDITOR = "auditor";
    /** Relying parties that report tokens to the evidence endpoints. */
    public static final String VALIDATOR = "validator";

    private Roles() {}
}
