package dev.keyhold.rotation;

import dev.keyhold.key.KeyView;
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
import java.net.URI;
import org.jboss.resteasy.reactive.RestResponse;

@Path("/v1/issuers/{id}/rotations")
@Produces(MediaType.APPLICATION_JSON)
public class RotationResource {

    @Inject
    RotationService rotations;

    @Inject
    SecurityIdentity identity;

    public record RotationRequest(String reason) {}

    /** 201 with the new PENDING key; 200 with the existing one while a key is pending. */
    @POST
    @Consumes({MediaType.APPLICATION_JSON, MediaType.WILDCARD})
    @RolesAllowed({Roles.SCHEDULER, Roles.ADMIN})
    public RestResponse<KeyView> rotate(@PathParam("id") String issuerId, RotationRequest request) {
        String reason = request == null ? null : request.reason();
        if (reason != null && reason.length() > 500) {
            throw dev.keyhold.error.ProblemException.badRequest("reason: at most 500 characters");
        }
        RotationService.Rotation r =
                rotations.rotate(issuerId, identity.getPrincipal().getName(), reason == null ? "rotation" : reason);
        if (r.created()) {
            return RestResponse.ResponseBuilder.<KeyView>created(
                            URI.create("/v1/keys/" + r.key().kid()))
                    .entity(r.key())
                    .build();
        }
        return RestResponse.ok(r.key());
    }
}
