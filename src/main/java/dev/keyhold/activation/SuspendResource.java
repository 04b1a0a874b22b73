package dev.keyhold.activation;

import dev.keyhold.error.ValidationException;
import dev.keyhold.issuer.IssuerView;
import dev.keyhold.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The kill switch. A sub-path of an issuer, so its own class with the full path (RESTEasy matches class paths first). */
@Path("/v1/issuers/{id}/suspend")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Dual control")
public class SuspendResource {

    @Inject
    KillSwitch killSwitch;

    @Inject
    Refusals refusals;

    @Inject
    SecurityIdentity identity;

    public record SuspendRequest(String reason) {}

    @POST
    @Consumes({MediaType.APPLICATION_JSON, MediaType.WILDCARD})
    @RolesAllowed({Roles.ADMIN, Roles.CUSTODIAN})
    @Operation(
            summary = "Suspend an issuer (kill switch)",
            description = "Takes effect at once: status SUSPENDED, nothing "
                    + "signs for the issuer and no key activates, rotation is refused. One admin or one custodian of the issuer "
                    + "is enough. Idempotent: suspending a suspended issuer returns 200 and changes nothing.")
    @APIResponse(responseCode = "200", description = "The issuer, SUSPENDED")
    @APIResponse(responseCode = "403", description = "Not an admin nor a custodian of this issuer (audited)")
    public IssuerView suspend(@PathParam("id") String issuerId, SuspendRequest body) {
        String reason = body == null ? null : body.reason();
        checkReason(reason);
        return refusals.audited(() -> killSwitch.suspend(issuerId, reason, identity))
                .issuer();
    }

    static void checkReason(String reason) {
        if (reason != null && reason.length() > 500) {
            throw new ValidationException(
                    List.of(new ValidationException.FieldError("reason", "at most 500 characters")));
        }
    }
}
