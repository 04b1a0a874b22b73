package dev.keyhold.activation;

import dev.keyhold.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

@Path("/v1/activations")
@Produces(MediaType.APPLICATION_JSON)
@Tag(
        name = "Dual control",
        description = "M-of-N custodian approval of key activation, issuer resume and policy changes")
public class ActivationResource {

    @Inject
    ActivationDecisions decisions;

    @Inject
    SecurityIdentity identity;

    @GET
    @RolesAllowed({Roles.CUSTODIAN, Roles.ADMIN, Roles.AUDITOR})
    @Operation(
            summary = "List activation requests",
            description = "Newest first. Custodians see only requests of "
                    + "issuers that name them (403 for another issuer). Reads change nothing: an OPEN request past expiresAt "
                    + "is listed as OPEN with due EXPIRED until the sweep or a decision records it.")
    @APIResponse(responseCode = "200", description = "The requests, each with its decisions")
    @APIResponse(responseCode = "400", description = "Unknown state or bad limit")
    public List<ActivationView> list(
            @Parameter(description = "OPEN, APPROVED, REJECTED, EXPIRED, EXECUTED or CANCELLED") @QueryParam("state")
                    String state,
            @Parameter(description = "issuer id") @QueryParam("issuer") String issuer,
            @Parameter(description = "1 to 500, default 100") @QueryParam("limit") String limit) {
        // A String, parsed here: JAX-RS answers an unparsable Integer query parameter with 404.
        Integer n = null;
        if (limit != null && !limit.isBlank()) {
            try {
                n = Integer.valueOf(limit.trim());
            } catch (NumberFormatException e) {
                throw dev.keyhold.error.ProblemException.badRequest("limit: must be an integer from 1 to 500");
            }
        }
        return decisions.list(state, issuer, n, identity);
    }

    @GET
    @Path("/{id}")
    @RolesAllowed({Roles.CUSTODIAN, Roles.ADMIN, Roles.AUDITOR})
    @Operation(
            summary = "One activation request with every decision",
            description =
                    "Reading it changes nothing; "
                            + "what is due and not yet recorded is shown in due: EXPIRED for an OPEN request past expiresAt, EXECUTED for "
                            + "an APPROVED key activation whose key has reached activatableAt (the sweep or the next decision records it).")
    @APIResponse(responseCode = "200", description = "The request")
    @APIResponse(responseCode = "403", description = "A custodian not named by the request's issuer")
    @APIResponse(responseCode = "404", description = "No such request")
    public ActivationView get(@PathParam("id") String id) {
        return decisions.get(id, identity);
    }

    @GET
    @Path("/{id}/statement")
    @RolesAllowed({Roles.CUSTODIAN, Roles.ADMIN, Roles.AUDITOR})
    @Operation(
            summary = "The statement to sign",
            description = "The exact bytes (canonical JSON) a custodian signs to "
                    + "approve this request: issuer, request, kind, requester, subject (kid and JWK thumbprint; the proposed "
                    + "policy's digest; a rollback's target), the policy version and digest in force, approvalsRequired, "
                    + "expiresAt and a nonce. Sign them with ssh-keygen -Y sign -n keyhold-approval, or as a WebAuthn challenge "
                    + "(SHA-256 of these bytes).")
    @APIResponse(responseCode = "200", description = "The statement bytes")
    @APIResponse(responseCode = "403", description = "A custodian not named by the request's issuer")
    @APIResponse(responseCode = "404", description = "No such request")
    @APIResponse(responseCode = "409", description = "A request opened before approvals were signed")
    public jakarta.ws.rs.core.Response statement(@PathParam("id") String id) {
        return jakarta.ws.rs.core.Response.ok(
                        decisions.statement(id, identity).getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        MediaType.APPLICATION_JSON_TYPE)
                .build();
    }

    @POST
    @Path("/{id}/decisions")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.CUSTODIAN)
    @Operation(
            summary = "Approve or reject a request",
            description =
                    "Only custodians the issuer names decide; the "
                            + "requester never does; each custodian decides once. One rejection ends the request (REJECTED); M distinct "
                            + "approvals make it APPROVED, and an approved key activation is carried out at once if its key is "
                            + "activatable (otherwise when activatableAt passes). An approved resume or policy change is applied at once.")
    @APIResponse(responseCode = "200", description = "The decision is recorded; the request as it is now")
    @APIResponse(responseCode = "403", description = "Not a custodian of the issuer, or the requester (audited)")
    @APIResponse(
            responseCode = "409",
            description = "Already decided, request not OPEN, or expired (then marked EXPIRED)")
    @APIResponse(
            responseCode = "422",
            description = "decision is not approve/reject, comment over 1000 characters, or an "
                    + "approval without a valid signature over the request's statement (nothing recorded)")
    public ActivationView decide(@PathParam("id") String id, DecisionRequest body) {
        return decisions.decide(id, body, identity);
    }
}
