package dev.keyhold.trust;

import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The public preview of a trust rollback; beside the bundles it previews, outside /v1 like them. */
@Path("/issuers/{id}/trust-rollbacks")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Trust bundles")
public class TrustRollbackPreviewResource {

    @Inject
    TrustRollbacks rollbacks;

    @GET
    @Path("preview")
    @PermitAll
    @Operation(
            summary = "What a rollback to bundle n would publish",
            description = "The exact payload and JWS "
                    + "signing input a rollback to toSequence would sign if it were approved and signed now (public, like the "
                    + "bundles). Same status codes as proposing one.")
    public TrustRollbacks.Preview preview(@PathParam("id") String issuerId, @QueryParam("toSequence") Long toSequence) {
        return rollbacks.preview(issuerId, toSequence);
    }
}
