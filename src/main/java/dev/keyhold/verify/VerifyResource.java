package dev.keyhold.verify;

import dev.keyhold.error.ProblemException;
import dev.keyhold.error.ValidationException;
import dev.keyhold.security.Roles;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.Set;

/**
 * {@code POST /v1/verify}: any Keyhold role, or anyone when {@code keyhold.verify.public=true}. A verdict is an
 * answer, not an error: valid or not, the response is 200. Fails closed (503) while the canaries say the engine
 * gives wrong verdicts ({@link VerifierGate}).
 */
@Path("/v1/verify")
public class VerifyResource {

    private static final Set<String> ROLES =
            Set.of(Roles.ADMIN, Roles.CUSTODIAN, Roles.SCHEDULER, Roles.SIGNER, Roles.AUDITOR);

    @Inject
    TokenVerifier verifier;

    @Inject
    SecurityIdentity identity;

    @Inject
    VerifyConfig config;

    @Inject
    VerifierGate gate;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    // Access is decided below, by configuration: @RolesAllowed cannot be switched off at run time.
    @PermitAll
    public Verdict verify(VerifyRequest request) {
        if (!config.isPublic()) {
            if (identity.isAnonymous()) {
                throw new UnauthorizedException();
            }
            if (identity.getRoles().stream().noneMatch(ROLES::contains)) {
                throw new ForbiddenException();
            }
        }
        gate.closedBecause().ifPresent(why -> {
            throw ProblemException.unavailable(
                    "verifier-self-test-failed",
                    "the reference validator failed its" + " forged-token self-test (" + why
                            + "); it answers again once a self-test run passes");
        });
        if (request == null || request.token() == null || request.token().isBlank()) {
            throw new ValidationException(List.of(new ValidationException.FieldError("token", "required")));
        }
        return verifier.verify(request.token());
    }
}
