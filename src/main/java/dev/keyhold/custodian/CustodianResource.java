package dev.keyhold.custodian;

import dev.keyhold.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestResponse;

@Path("/v1/custodians/me/credentials")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Custodian credentials", description = "A custodian's own signing keys (SSH or WebAuthn) for approvals")
public class CustodianResource {

    @Inject
    Credentials credentials;

    @Inject
    SecurityIdentity identity;

    @Inject
    jakarta.enterprise.event.Event<CredentialEnrolled> enrolled;

    public record ChallengeView(String id, String challenge, Instant expiresAt) {}

    public record CredentialView(
            String id, String format, String publicKey, String algorithm, Instant enrolledAt, boolean sealed) {
        static CredentialView of(Credentials.Credential c, boolean sealed) {
            return new CredentialView(c.id(), c.format(), c.publicKey(), c.algorithm(), c.enrolledAt(), sealed);
        }
    }

    @POST
    @Path("/challenges")
    @Consumes({MediaType.APPLICATION_JSON, MediaType.WILDCARD})
    @RolesAllowed(Roles.CUSTODIAN)
    @Operation(
            summary = "A fresh enrollment challenge",
            description =
                    "Single use, valid 5 minutes. Sign its text "
                            + "with the new key: ssh-keygen -Y sign -n keyhold-enroll (or use it as the WebAuthn registration challenge).")
    @APIResponse(responseCode = "201", description = "The challenge")
    @APIResponse(responseCode = "409", description = "Too many open challenges")
    public RestResponse<ChallengeView> challenge() {
        Credentials.Challenge c = credentials.challenge(identity.getPrincipal().getName());
        return RestResponse.status(
                RestResponse.Status.CREATED, new ChallengeView(c.id(), c.challenge(), c.expiresAt()));
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.CUSTODIAN)
    @Operation(
            summary = "Enroll a credential",
            description = "{\"format\":\"sshsig\",\"publicKey\":\"ssh-ed25519 AAAA… "
                    + "comment\",\"signature\":\"-----BEGIN SSH SIGNATURE-----…\"} (namespace keyhold-enroll, over an open "
                    + "challenge) or {\"format\":\"webauthn\",\"attestationObject\",\"clientDataJSON\"} (base64url). Keyhold "
                    + "seals the (principal, public key) binding with the HSM. The credential enters an issuer's policy with "
                    + "the next policy version that names it: at once (sealed by the HSM) while the issuer has fewer custodians "
                    + "with credentials than approvalsRequired, otherwise through an approved policy change.")
    @APIResponse(responseCode = "201", description = "Enrolled")
    @APIResponse(responseCode = "409", description = "This key is already enrolled")
    @APIResponse(
            responseCode = "422",
            description = "The signature over the challenge does not check out (nothing stored)")
    public RestResponse<CredentialView> enroll(EnrollRequest body) {
        String principal = identity.getPrincipal().getName();
        Credentials.Credential c = credentials.enroll(principal, body);
        // credential bootstrap in the issuers that name the principal (policy/PolicyChain)
        enrolled.fire(new CredentialEnrolled(principal, c.id()));
        return RestResponse.ResponseBuilder.<CredentialView>created(URI.create("/v1/custodians/me/credentials"))
                .entity(CredentialView.of(c, true))
                .build();
    }

    @GET
    @RolesAllowed(Roles.CUSTODIAN)
    @Operation(
            summary = "The caller's credentials",
            description =
                    "sealed=false marks a row without a valid HSM seal: " + "not a credential (a database write).")
    public List<CredentialView> list() {
        return credentials.rows(identity.getPrincipal().getName()).stream()
                .map(c -> CredentialView.of(c, credentials.sealOk(c)))
                .toList();
    }
}
