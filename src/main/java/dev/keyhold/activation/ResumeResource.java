package dev.keyhold.activation;

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

@Path("/v1/issuers/{id}/resume")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Dual control")
public class ResumeResource {

    @Inject
    KillSwitch killSwitch;

    @Inject
    Proposals proposals;

    @POST
    @Consumes({MediaType.APPLICATION_JSON, MediaType.WILDCARD})
    @RolesAllowed({Roles.ADMIN, Roles.CUSTODIAN})
    @Operation(
            summary = "Ask to resume a suspended issuer",
            description = "Opens an ISSUER_RESUME request that needs "
                    + "the same M-of-N custodian approval as a key activation (the requester does not count). When approved the "
                    + "issuer is ACTIVE again. While one is live it is returned (200) instead of opening another.")
    @APIResponse(responseCode = "201", description = "Request opened")
    @APIResponse(responseCode = "200", description = "The live resume request")
    @APIResponse(responseCode = "403", description = "Not an admin nor a custodian of this issuer (audited)")
    @APIResponse(responseCode = "409", description = "The issuer is not suspended")
    public RestResponse<ActivationView> resume(@PathParam("id") String issuerId, SuspendResource.SuspendRequest body) {
        String reason = body == null ? null : body.reason();
        SuspendResource.checkReason(reason);
        KillSwitch.Resumption r = proposals.audited(identity -> killSwitch.resume(issuerId, reason, identity));
        return proposals.answer(r.request(), r.created());
    }
}
