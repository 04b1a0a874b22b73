package dev.keyhold.evidence;

import dev.keyhold.audit.QueryParams;
import dev.keyhold.error.ValidationException;
import dev.keyhold.error.ValidationException.FieldError;
import dev.keyhold.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import org.jboss.resteasy.reactive.RestResponse;

/** The evidence endpoints (docs/evidence.md). */
@Path("/v1/evidence")
@Produces(MediaType.APPLICATION_JSON)
public class EvidenceResource {

    public static final int MAX_LOOKUP = 1000;

    @Inject
    EvidenceLookup lookup;

    @Inject
    EvidenceReports reports;

    @Inject
    LedgerExport exports;

    @Inject
    LedgerMaintenance maintenance;

    @Inject
    SecurityIdentity identity;

    public record TokensRequest(List<String> tokens) {}

    public record TokensResponse(List<TokenFinding> results) {}

    /** Did Keyhold issue these tokens? Read only: an auditor's lookup raises no alarm. */
    @POST
    @Path("/tokens")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.AUDITOR)
    public TokensResponse tokens(TokensRequest body) {
        if (body == null
                || body.tokens() == null
                || body.tokens().isEmpty()
                || body.tokens().size() > MAX_LOOKUP) {
            throw new ValidationException(List.of(new FieldError("tokens", "1 to " + MAX_LOOKUP + " tokens")));
        }
        return new TokensResponse(lookup.judgeTokens(
                body.tokens().stream().map(t -> t == null ? "" : t).toList()));
    }

    /** A validator's report of rejected tokens and a sample of accepted ones. */
    @POST
    @Path("/reports")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.VALIDATOR)
    public EvidenceReports.Result report(EvidenceReports.Report body) {
        return reports.report(body, identity.getPrincipal().getName());
    }

    @GET
    @Path("/ledger/export")
    @RolesAllowed(Roles.AUDITOR)
    public LedgerExport.Document export(@QueryParam("from") String from, @QueryParam("to") String to) {
        QueryParams p = new QueryParams();
        Instant f = p.instant("from", from);
        Instant t = p.instant("to", to);
        p.check(f == null || t == null || f.isBefore(t), "to", "must be after from");
        p.done();
        return exports.export(f, t);
    }

    /** Signs the ledger head now (the periodic job does it every checkpoint-interval); 409 while the ledger is empty. */
    @POST
    @Path("/ledger/checkpoints")
    @RolesAllowed({Roles.AUDITOR, Roles.ADMIN})
    public RestResponse<LedgerMaintenance.LedgerCheckpoint> checkpoint() {
        LedgerMaintenance.LedgerCheckpoint cp = maintenance
                .checkpoint(identity.getPrincipal().getName())
                .orElseThrow(() ->
                        dev.keyhold.error.ProblemException.conflict("ledger-empty", "the ledger holds no batch yet"));
        return RestResponse.ResponseBuilder.<LedgerMaintenance.LedgerCheckpoint>created(
                        URI.create("/v1/evidence/ledger/export"))
                .entity(cp)
                .build();
    }
}
