package dev.keyhold.trust;

import dev.keyhold.activation.ActivationView;
import dev.keyhold.activation.Proposals;
import dev.keyhold.security.Roles;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestResponse;

@Path("/v1/issuers/{id}/trust-rollbacks")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Trust bundles")
public class TrustRollbackResource {

    @Inject
    TrustRollbacks rollbacks;

    @Inject
    Proposals proposals;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.ADMIN, Roles.CUSTODIAN})
    @Operation(
            summary = "Propose a trust rollback",
            description = "{\"toSequence\": n, \"reason\": …}: opens a "
                    + "TRUST_ROLLBACK request approved M-of-N by the issuer's custodians (not the requester). Carried out, the "
                    + "issuer's audiences and algorithm return to bundle n's, keys published after n that cannot sign yet are "
                    + "revoked (reason 'rollback'), and a new bundle with rollbackOf n is published. 404: no bundle n; 422: n is "
                    + "the current bundle, or bundle n's policy no longer validates; 409: it would leave out the ACTIVE key (or a "
                    + "retired key published after n), or a rollback is already pending.")
    @APIResponse(responseCode = "201", description = "The TRUST_ROLLBACK request; 'proposed' says what it will do")
    @APIResponse(responseCode = "403", description = "Not an admin nor a custodian of this issuer (audited)")
    public RestResponse<ActivationView> propose(@PathParam("id") String issuerId, TrustRollbacks.RollbackRequest body) {
        return proposals.open(identity -> rollbacks.propose(issuerId, body, identity));
    }
}
