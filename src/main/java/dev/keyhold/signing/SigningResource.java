package dev.keyhold.signing;

import dev.keyhold.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code POST /v1/issuers/{id}/sign}: for the signers the issuer names. Non-blocking: it runs on the request's event
 * loop behind the same filters, authentication and {@code @RolesAllowed} check as every endpoint, and parks no
 * thread while the HSM signs ({@link SigningExecutor}) and the ledger commits; the response is written when the
 * token is durable. It reads no database unless the issuer's snapshot is not cached yet (then on a worker).
 */
@Path("/v1/issuers/{id}/sign")
public class SigningResource {

    @Inject
    SigningService signing;

    @Inject
    SecurityIdentity identity;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.SIGNER)
    public Uni<SignResponse> sign(@PathParam("id") String issuerId, SignRequest request) {
        return Uni.createFrom().completionStage(signing.sign(issuerId, request, identity));
    }
}
