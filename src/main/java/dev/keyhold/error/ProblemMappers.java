package dev.keyhold.error;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.keyhold.domain.IllegalTransitionException;
import dev.keyhold.hsm.HsmException;
import io.quarkus.security.AuthenticationCompletionException;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.AuthenticationRedirectException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import jakarta.validation.ConstraintViolationException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * The API's exception mappers: each hands the exception to {@link FailureClassifier} and renders the answer as
 * problem JSON. They are listed by type only so that they win over Quarkus's own mappers for the same types; the
 * console answers the same failures with pages (console/ConsoleResource).
 */
public class ProblemMappers {

    // Refused privileged attempts are audited: every 403 on /v1, in its own transaction.
    @Inject
    DenialSink denials;

    @Inject
    HtmlErrors pages;

    @ServerExceptionMapper
    public Response problem(ProblemException e, UriInfo uri) {
        if (e.kind() == ProblemException.Kind.FORBIDDEN) {
            denials.recordRequestDenied(e.getMessage());
        }
        return render(e, uri);
    }

    @ServerExceptionMapper({
        UnauthorizedException.class,
        AuthenticationFailedException.class,
        AuthenticationCompletionException.class,
        AuthenticationRedirectException.class
    })
    public Response unauthenticated(RuntimeException e, UriInfo uri) {
        Response page = uri == null ? null : pages.unauthenticated(uri.getPath(), e);
        if (page != null) {
            return page; // a person at the console: a page (or the login's own redirect), not problem JSON
        }
        return render(e, uri);
    }

    @ServerExceptionMapper
    public Uni<Response> forbidden(ForbiddenException e, UriInfo uri) {
        // Role checks may fail on the event loop: the denial is recorded on a worker, then the 403 is sent.
        return denials.requestDenied("role not allowed").replaceWith(() -> render(e, uri));
    }

    @ServerExceptionMapper({
        JsonProcessingException.class,
        JsonMappingException.class,
        MismatchedInputException.class,
        InvalidFormatException.class,
        UnrecognizedPropertyException.class,
        JsonParseException.class,
        ConstraintViolationException.class,
        IllegalTransitionException.class,
        HsmException.class
    })
    public Response classified(Exception e, UriInfo uri) {
        return render(e, uri);
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e, UriInfo uri) {
        if (e.getResponse() != null && e.getResponse().getStatus() < 400) {
            return e.getResponse();
        }
        return render(e, uri);
    }

    /** Everything else: a known cause inside a wrapper, else a bare 500 with nothing internal. */
    @ServerExceptionMapper
    public Response unexpected(Throwable e, UriInfo uri) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof ProblemException p) {
                return problem(p, uri);
            }
        }
        return render(e, uri);
    }

    /** A problem response built by hand (kept for callers and tests that name the parts). */
    static Response respond(
            int status, String slug, String title, String detail, UriInfo uri, java.util.Map<String, Object> ext) {
        return ProblemRenderer.render(
                new Failure(status, slug, title, detail, ext, null), uri == null ? null : uri.getPath());
    }

    private static Response render(Throwable e, UriInfo uri) {
        return ProblemRenderer.render(FailureClassifier.classify(e), uri == null ? null : uri.getPath());
    }
}
