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

@Path("/v1/issuers/{id}/policy-changes")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Dual control")
public class PolicyChangeResource {

    @Inject
    PolicyChanges policyChanges;

    @Inject
    Proposals proposals;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.ADMIN, Roles.CUSTODIAN})
    @Operation(
            summary = "Propose a policy change",
            description =
                    "Any of algorithm (future keys only), audiences, "
                            + "custodians, approvalsRequired, signers, rotationPeriod, publishLead, tokenTtl, activeDeadline, "
                            + "destroyGrace, approvalTtl; omitted fields keep their value; id, issuerUri and partition are immutable (422). "
                            + "The merged definition is validated as at creation (422 listing every fault). Opens a POLICY_CHANGE "
                            + "request approved M-of-N by the issuer's current custodians (not the requester); when approved it is "
                            + "applied at once, audited and announced as keyhold.issuer.policy-changed. One live change per issuer (409).")
    @APIResponse(
            responseCode = "201",
            description = "The POLICY_CHANGE request; its 'proposed' field is the new definition")
    @APIResponse(responseCode = "403", description = "Not an admin nor a custodian of this issuer (audited)")
    @APIResponse(responseCode = "409", description = "Another policy change of this issuer is live")
    @APIResponse(responseCode = "422", description = "Invalid, immutable field changed, or no change")
    public RestResponse<ActivationView> propose(@PathParam("id") String issuerId, PolicyChangeRequest body) {
        return proposals.open(identity -> policyChanges.propose(issuerId, body, identity));
    }
}
