package dev.keyhold.signing;

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

/**
 * {@code POST /v1/issuers/{id}/sign}: for the signers the issuer names. Runs on a worker thread (the HSM call
 * blocks); it reads no database unless the issuer's snapshot is not cached yet.
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
    public SignResponse sign(@PathParam("id") String issuerId, SignRequest request) {
        return signing.sign(issuerId, request, identity);
    }
}
