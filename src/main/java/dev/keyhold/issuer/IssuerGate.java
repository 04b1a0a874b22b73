package dev.keyhold.issuer;

import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.error.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

/**
 * The kill switch as seen by anything that would use an issuer's key: call {@link #requireActive} before signing.
 * A suspended issuer is refused at once (SPEC invariant 7: fail closed), whatever state its keys are in.
 */
@ApplicationScoped
public class IssuerGate {

    /** 404 for an unknown issuer, 409 {@code issuer-suspended} for a suspended one. */
    @Transactional
    public Issuer requireActive(String issuerId) {
        IssuerEntity e = IssuerService.validId(issuerId) ? IssuerEntity.findById(issuerId) : null;
        if (e == null) {
            throw ProblemException.notFound("issuer", issuerId);
        }
        requireActive(e);
        return e.toIssuer();
    }

    public static void requireActive(IssuerEntity issuer) {
        requireActive(issuer.id, issuer.status);
    }

    /** The same rule for a cached snapshot (the sign path reads no database). */
    public static void requireActive(Issuer issuer) {
        requireActive(issuer.id(), issuer.status());
    }

    private static void requireActive(String id, IssuerStatus status) {
        if (status != IssuerStatus.ACTIVE) {
            throw ProblemException.conflict(
                    "issuer-suspended",
                    "issuer " + id + " is suspended (kill switch); nothing signs for it until an approved resume");
        }
    }
}
