package dev.keyhold.key;

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
import jakarta.ws.rs.core.MediaType;

@Path("/v1/keys")
@Produces(MediaType.APPLICATION_JSON)
public class KeyResource {

    @Inject
    KeyService keys;

    @Inject
    SecurityIdentity identity;

    @GET
    @Path("/{kid}")
    @RolesAllowed({Roles.ADMIN, Roles.CUSTODIAN, Roles.SCHEDULER, Roles.SIGNER, Roles.AUDITOR})
    public KeyView get(@PathParam("kid") String kid) {
        return keys.get(kid);
    }

    @POST
    @Path("/{kid}/revoke")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.ADMIN, Roles.CUSTODIAN})
    public KeyView revoke(@PathParam("kid") String kid, KeyService.RevokeRequest request) {
        return keys.revoke(kid, request, identity);
    }
}
