package dev.keyhold.security;

/**
 * What an access check needs to know of an issuer: whom it names. {@code issuer.Issuer} implements it, so the
 * security layer does not depend on the issuer feature that uses it.
 */
public interface IssuerMembers {

    String id();

    boolean isCustodian(String principal);

    boolean isSigner(String principal);
}
