package dev.keyhold.trust;

import dev.keyhold.activation.ActivationView;
import dev.keyhold.activation.Proposals;
import dev.keyhold.security.Roles;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestResponse;

@Path("/v1/trust-anchor/rotations")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Trust bundles")
public class TrustKeyRotationResource {

    @Inject
    TrustKeyRotations rotations;

    @Inject
    Proposals proposals;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.ADMIN, Roles.CUSTODIAN})
    @Operation(
            summary = "Propose a trust key rotation",
            description = "{\"reason\": …}: generates a NEXT trust key in "
                    + "the HSM (listed by GET /v1/trust-anchor after the CURRENT one) and opens a TRUST_KEY_ROTATION request, "
                    + "approved M-of-N by the custodians of the governing issuer (keyhold.trust.governing-issuer), never the "
                    + "requester. Approved, the NEXT key takes over: every issuer's newest bundle is signed again by both keys "
                    + "(JWS JSON serialization, application/jose+json), later bundles by the new key only, and the old key is "
                    + "RETIRED. 409: a rotation is already pending, or no governing issuer is configured.")
    @APIResponse(responseCode = "201", description = "The TRUST_KEY_ROTATION request; 'proposed' names both trust kids")
    @APIResponse(responseCode = "403", description = "Not an admin nor a custodian of the governing issuer (audited)")
    @APIResponse(
            responseCode = "409",
            description = "A rotation is pending, or none can be decided (no governing issuer)")
    public RestResponse<ActivationView> propose(TrustKeyRotations.RotationRequest body) {
        return proposals.open(identity -> rotations.propose(body, identity));
    }
}
