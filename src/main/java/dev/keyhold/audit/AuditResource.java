package dev.keyhold.audit;

import dev.keyhold.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.net.URI;
import org.jboss.resteasy.reactive.RestResponse;

/**
 * The auditor's view. Reading the trail is the auditor's alone (SPEC): admins are the people whose actions the
 * trail holds to account, so they do not browse it. Either may ask for a checkpoint, which only adds evidence.
 */
@Path("/v1/audit")
@Produces(MediaType.APPLICATION_JSON)
public class AuditResource {

    @Inject
    AuditQueryService queries;

    @Inject
    AuditVerifier verifier;

    @Inject
    Checkpoints checkpoints;

    @Inject
    SecurityIdentity identity;

    @Inject
    AuditExport exports;

    @GET
    @RolesAllowed(Roles.AUDITOR)
    public AuditPage find(
            @QueryParam("issuer") String issuer,
            @QueryParam("kid") String kid,
            @QueryParam("actor") String actor,
            @QueryParam("action") String action,
            @QueryParam("from") String from,
            @QueryParam("to") String to,
            @QueryParam("after") String after,
            @QueryParam("limit") String limit) {
        QueryParams p = new QueryParams();
        AuditQuery q = new AuditQuery(
                p.text("issuer", issuer),
                p.text("kid", kid),
                p.text("actor", actor),
                p.text("action", action),
                p.instant("from", from),
                p.instant("to", to),
                p.seq("after", after),
                p.limit(limit, 100));
        p.check(q.from() == null || q.to() == null || q.from().isBefore(q.to()), "to", "must be after from");
        p.done();
        return queries.find(q);
    }

    @GET
    @Path("/verify")
    @RolesAllowed(Roles.AUDITOR)
    public AuditVerifier.Verdict verify() {
        return verifier.verify();
    }

    /** Records, checkpoints and the audit key's public JWK of a time window, for the offline verifier. */
    @GET
    @Path("/export")
    @RolesAllowed(Roles.AUDITOR)
    public AuditExport.Document export(@QueryParam("from") String from, @QueryParam("to") String to) {
        QueryParams p = new QueryParams();
        java.time.Instant f = p.instant("from", from);
        java.time.Instant t = p.instant("to", to);
        p.check(f == null || t == null || f.isBefore(t), "to", "must be after from");
        p.done();
        return exports.export(f, t);
    }

    @POST
    @Path("/checkpoints")
    @RolesAllowed({Roles.AUDITOR, Roles.ADMIN})
    public RestResponse<Checkpoints.CheckpointView> checkpoint() {
        Checkpoints.CheckpointView c =
                checkpoints.create(identity.getPrincipal().getName());
        return RestResponse.ResponseBuilder.<Checkpoints.CheckpointView>created(URI.create("/v1/audit/verify"))
                .entity(c)
                .build();
    }
}
