package dev.keyhold.policy;

import dev.keyhold.error.ProblemException;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.security.Roles;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

@Path("/v1/issuers/{id}/policy")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Issuer policy chain", description = "The issuer's signed, versioned policy")
public class PolicyResource {

    @Inject
    PolicyChain chain;

    @Inject
    IssuerService issuers;

    /** {@code document}: the canonical text, byte for byte as its digest covers it. */
    public record PolicyVersionView(
            String issuer,
            int version,
            String digest,
            String document,
            Map<String, Object> evidence,
            Instant createdAt,
            int head) {}

    @GET
    @RolesAllowed({Roles.ADMIN, Roles.CUSTODIAN, Roles.SCHEDULER, Roles.SIGNER, Roles.AUDITOR})
    @Operation(
            summary = "The issuer's policy in force",
            description = "The newest version of the issuer's policy "
                    + "chain: its canonical document (whose SHA-256 is digest), and its evidence (the HSM seal, or the "
                    + "custodians' statement and signatures).")
    @APIResponse(responseCode = "200", description = "The head version")
    @APIResponse(responseCode = "404", description = "Unknown issuer, or an issuer without a chain")
    public PolicyVersionView head(@PathParam("id") String id) {
        issuers.require(id);
        List<PolicyChain.Version> all = chain.versions(id);
        if (all.isEmpty()) {
            throw ProblemException.notFound("policy of issuer", id);
        }
        return view(id, all.get(all.size() - 1), all.size());
    }

    @GET
    @Path("/{version}")
    @RolesAllowed({Roles.ADMIN, Roles.CUSTODIAN, Roles.SCHEDULER, Roles.SIGNER, Roles.AUDITOR})
    @Operation(summary = "One version of the issuer's policy")
    @APIResponse(responseCode = "200", description = "The version")
    @APIResponse(responseCode = "404", description = "No such issuer or version")
    public PolicyVersionView version(@PathParam("id") String id, @PathParam("version") String version) {
        issuers.require(id);
        int n;
        try {
            n = Integer.parseInt(version);
        } catch (NumberFormatException e) {
            throw ProblemException.notFound("policy version", version);
        }
        List<PolicyChain.Version> all = chain.versions(id);
        if (n < 1 || n > all.size()) {
            throw ProblemException.notFound("policy version", version);
        }
        return view(id, all.get(n - 1), all.size());
    }

    private static PolicyVersionView view(String id, PolicyChain.Version v, int head) {
        return new PolicyVersionView(id, v.version(), v.digest(), v.document(), v.evidenceMap(), v.createdAt(), head);
    }
}
