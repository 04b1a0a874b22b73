package dev.keyhold.security;

import dev.keyhold.error.ProblemException;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Per-issuer scoping of the custodian and signer roles: a role alone is not enough, the issuer must name the
 * principal. Admins act on any issuer where SPEC lets them.
 */
@ApplicationScoped
public class IssuerAccess {

    public void requireCustodianOrAdmin(IssuerMembers issuer, SecurityIdentity who) {
        if (who.hasRole(Roles.ADMIN)) {
            return;
        }
        requireCustodian(issuer, who);
    }

    public void requireCustodian(IssuerMembers issuer, SecurityIdentity who) {
        if (!who.hasRole(Roles.CUSTODIAN)
                || !issuer.isCustodian(who.getPrincipal().getName())) {
            throw ProblemException.forbidden(
                    "'" + who.getPrincipal().getName() + "' is not a custodian of issuer " + issuer.id());
        }
    }

    public void requireSigner(IssuerMembers issuer, SecurityIdentity who) {
        if (!who.hasRole(Roles.SIGNER) || !issuer.isSigner(who.getPrincipal().getName())) {
            throw ProblemException.forbidden(
                    "'" + who.getPrincipal().getName() + "' may not sign for issuer " + issuer.id());
        }
    }
}
