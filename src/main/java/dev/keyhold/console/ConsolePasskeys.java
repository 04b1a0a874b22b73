package dev.keyhold.console;

import dev.keyhold.activation.ActivationDecisions;
import dev.keyhold.activation.ActivationView;
import dev.keyhold.activation.DecisionRequest;
import dev.keyhold.custodian.Credentials;
import dev.keyhold.custodian.CustodianResource;
import dev.keyhold.custodian.EnrollRequest;
import dev.keyhold.custodian.WebAuthnSettings;
import dev.keyhold.error.ProblemException;
import dev.keyhold.security.Roles;
import io.quarkus.security.Authenticated;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Cookie;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;

/**
 * The console's passkey calls, made by {@code /console/static/passkeys.js} under the console session: the same
 * services, with the same authorization, as {@code /v1/custodians/me/credentials…} and
 * {@code /v1/activations/{id}/statement|decisions}. They are here, not in {@code /v1}, because a console session never
 * authenticates an API call (its cookies are scoped to {@code /console}). Errors are problem JSON for the script.
 *
 * <p>Every POST carries the page's double-submit token in the {@value #CSRF_HEADER} header, which must equal the
 * console's HTTP-only, SameSite=Strict {@code keyhold-csrf} cookie; {@link ConsoleOriginCheck} has already refused a
 * POST from another site.
 */
@Path("/console/api")
@Authenticated
@Produces(MediaType.APPLICATION_JSON)
public class ConsolePasskeys {

    static final String CSRF_HEADER = "X-Keyhold-Csrf";

    @Inject
    SecurityIdentity identity;

    @Inject
    CustodianResource custodians;

    @Inject
    Credentials credentials;

    @Inject
    WebAuthnSettings webauthn;

    @Inject
    ActivationDecisions decisions;

    @Context
    HttpHeaders headers;

    /** What the browser needs for navigator.credentials: the relying party, the user handle, the enrolled passkeys. */
    public record Passkeys(String rpId, String user, String userHandle, List<Passkey> credentials) {}

    public record Passkey(String id, String credentialId, String algorithm, String enrolledAt) {}

    @GET
    @Path("/passkeys")
    public Passkeys passkeys() {
        requireCustodian();
        String principal = identity.getPrincipal().getName();
        List<Passkey> mine = credentials.sealed(principal).stream()
                .filter(c -> "webauthn".equals(c.format()))
                .map(c -> new Passkey(
                        c.id(), c.credentialId(), c.algorithm(), c.enrolledAt().toString()))
                .toList();
        return new Passkeys(webauthn.rpId(), principal, userHandle(principal), mine);
    }

    @POST
    @Path("/credentials/challenges")
    public Response challenge(@HeaderParam(CSRF_HEADER) String csrf) {
        requireCsrf(csrf);
        requireCustodian();
        return Response.status(201).entity(custodians.challenge().getEntity()).build();
    }

    @POST
    @Path("/credentials")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response enroll(@HeaderParam(CSRF_HEADER) String csrf, EnrollRequest body) {
        requireCsrf(csrf);
        requireCustodian();
        if (body == null || !"webauthn".equals(body.format())) {
            throw new ProblemException(
                    422,
                    "invalid-credential",
                    "Unprocessable credential",
                    "the console enrolls passkeys (format \"webauthn\"); enroll SSH keys with the API",
                    null);
        }
        return Response.status(201).entity(custodians.enroll(body).getEntity()).build();
    }

    /** The statement's exact bytes, as {@code GET /v1/activations/{id}/statement} returns them. */
    @GET
    @Path("/activations/{id}/statement")
    public Response statement(@PathParam("id") String id) {
        requireConsoleUser();
        return Response.ok(
                        decisions.statement(id, identity).getBytes(StandardCharsets.UTF_8),
                        MediaType.APPLICATION_JSON_TYPE)
                .header("Cache-Control", "no-store")
                .build();
    }

    @POST
    @Path("/activations/{id}/decisions")
    @Consumes(MediaType.APPLICATION_JSON)
    public ActivationView decide(
            @HeaderParam(CSRF_HEADER) String csrf, @PathParam("id") String id, DecisionRequest body) {
        requireCsrf(csrf);
        requireConsoleUser();
        return decisions.decide(id, body, identity);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private void requireCustodian() {
        if (!identity.hasRole(Roles.CUSTODIAN)) {
            throw ProblemException.forbidden("passkeys are for custodians");
        }
    }

    private void requireConsoleUser() {
        if (!(identity.hasRole(Roles.ADMIN) || identity.hasRole(Roles.CUSTODIAN) || identity.hasRole(Roles.AUDITOR))) {
            throw ProblemException.forbidden("the console is for custodians, auditors and admins");
        }
    }

    private void requireCsrf(String header) {
        Cookie c = headers.getCookies().get(ConsoleResource.CSRF_COOKIE);
        if (!ConsoleResource.csrfMatches(c, header)) {
            throw new ProblemException(
                    403,
                    "csrf",
                    "Page expired",
                    "This call was not made from a current console page. Reload the page and try again.",
                    null);
        }
    }

    /**
     * The WebAuthn user handle: a fixed, opaque 32 bytes per principal (the spec asks for no personal data in it), so
     * an authenticator keeps one passkey per custodian for this relying party.
     */
    static String userHandle(String principal) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256")
                    .digest(("keyhold-custodian:" + principal).getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(h);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
