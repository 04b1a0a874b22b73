package dev.keyhold.issuer;

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
import java.net.URI;
import java.util.List;
import org.jboss.resteasy.reactive.RestResponse;

@Path("/v1/issuers")
@Produces(MediaType.APPLICATION_JSON)
public class IssuerResource {

    @Inject
    IssuerService issuers;

    @Inject
    SecurityIdentity identity;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.ADMIN)
    public RestResponse<IssuerView> create(IssuerRequest request) {
        IssuerView v = issuers.create(request, identity.getPrincipal().getName());
        return RestResponse.ResponseBuilder.<IssuerView>created(URI.create("/v1/issuers/" + v.id()))
                .entity(v)
                .build();
    }

    @GET
    @RolesAllowed({Roles.ADMIN, Roles.CUSTODIAN, Roles.SCHEDULER, Roles.SIGNER, Roles.AUDITOR})
    public List<IssuerView> list() {
        return issuers.list();
    }

    @GET
    @Path("/{id}")
    @RolesAllowed({Roles.ADMIN, Roles.CUSTODIAN, Roles.SCHEDULER, Roles.SIGNER, Roles.AUDITOR})
    public IssuerView get(@PathParam("id") String id) {
        // Reads never write: a due activation is carried out by the sweep or the decision that completes it.
        return issuers.get(id);
    }
}
