package dev.keyhold.key;

import dev.keyhold.security.Roles;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;

/**
 * {@code GET /v1/issuers/{id}/keys}. Sub-paths of an issuer get their own resource class with the full path:
 * RESTEasy Reactive picks the resource by its class path first.
 */
@Path("/v1/issuers/{id}/keys")
@Produces(MediaType.APPLICATION_JSON)
public class IssuerKeysResource {

    @Inject
    KeyService keys;

    @GET
    @RolesAllowed({Roles.ADMIN, Roles.CUSTODIAN, Roles.SCHEDULER, Roles.SIGNER, Roles.AUDITOR})
    public List<KeyView> ofIssuer(@PathParam("id") String issuerId) {
        return keys.ofIssuer(issuerId);
    }
}
