package dev.keyhold.error;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.keyhold.hsm.HsmAuthenticationException;
import dev.keyhold.hsm.HsmException;
import dev.keyhold.hsm.HsmObjectMissingException;
import io.quarkus.security.AuthenticationCompletionException;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.AuthenticationRedirectException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.persistence.OptimisticLockException;
import jakarta.validation.ConstraintViolationException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** The one place where failures become RFC 9457 responses. */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);
    static final String CHALLENGE = "Basic realm=\"keyhold\", Bearer";

    // Refused privileged attempts are audited (SPEC, issue 3): every 403 on /v1, in its own transaction.
    @jakarta.inject.Inject
    DenialSink denials;
    @jakarta.inject.Inject
    HtmlErrors pages;

    @ServerExceptionMapper
    public Response problem(ProblemException e, UriInfo uri) {
        if (e.status() == 403) {
            denials.recordRequestDenied(e.getMessage());
        }
        return respond(e.status(), e.slug(), e.title(), e.getMessage(), uri, e.extensions());
    }

    /** An illegal lifecycle move (domain): 409, the one place where it meets HTTP. */
    @ServerExceptionMapper
    public Response illegalTransition(dev.keyhold.domain.IllegalTransitionException e, UriInfo uri) {
        return respond(409, e.slug(), "Conflict with the current state", e.getMessage(), uri, null);
    }

    @ServerExceptionMapper({UnauthorizedException.class, AuthenticationFailedException.class,
            AuthenticationCompletionException.class, AuthenticationRedirectException.class})
    public Response unauthenticated(RuntimeException e, UriInfo uri) {
        Response page = uri == null ? null : pages.unauthenticated(uri.getPath(), e);
        if (page != null) {
            return page; // a person at the console: a page (or the login's own redirect), not problem JSON
        }
        return Response.fromResponse(respond(401, "unauthenticated", "Authentication required",
                        "valid credentials are required", uri, null))
                .header("WWW-Authenticate", CHALLENGE).build();
    }

    @ServerExceptionMapper
    public io.smallrye.mutiny.Uni<Response> forbidden(ForbiddenException e, UriInfo uri) {
        // Role checks may fail on the event loop: the denial is recorded on a worker, then the 403 is sent.
        return denials.requestDenied("role not allowed")
                .replaceWith(() -> respond(403, "forbidden", "Forbidden", "your role does not allow this", uri, null));
    }

    @ServerExceptionMapper({JsonProcessingException.class, JsonMappingException.class, MismatchedInputException.class,
            InvalidFormatException.class, UnrecognizedPropertyException.class,
            com.fasterxml.jackson.core.JsonParseException.class})
    public Response badJson(Exception e, UriInfo uri) {
        String detail = "the body is not valid JSON for this request";
        if (e instanceof UnrecognizedPropertyException u) {
            detail = "unknown field '" + u.getPropertyName() + "'";
        } else if (e instanceof com.fasterxml.jackson.core.JsonParseException p
                && String.valueOf(p.getOriginalMessage()).startsWith("Duplicate field")) {
            detail = "a JSON object has a duplicate member: " + p.getOriginalMessage().replace("Duplicate field", "field");
        } else if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            detail = "field '" + path(m) + "' has the wrong type or form";
        }
        return respond(400, "malformed-body", "Malformed request body", detail, uri, null);
    }

    @ServerExceptionMapper
    public Response constraint(ConstraintViolationException e, UriInfo uri) {
        List<ValidationException.FieldError> errors = e.getConstraintViolations().stream()
                .map(v -> new ValidationException.FieldError(lastNode(v.getPropertyPath().toString()), v.getMessage()))
                .toList();
        return respond(400, "invalid-request", "The request is not valid",
                errors.stream().map(x -> x.field() + ": " + x.message()).collect(Collectors.joining("; ")), uri,
                Map.of("errors", errors));
    }

    @ServerExceptionMapper
    public Response hsm(HsmException e, UriInfo uri) {
        if (e instanceof HsmObjectMissingException) {
            LOG.errorf("HSM object missing in partition %s", e.partition());
            return respond(409, "key-material-missing", "The key's HSM object is missing",
                    "the key cannot be used: its HSM object is missing", uri, null);
        }
        String detail = e instanceof HsmAuthenticationException
                ? "the HSM refused Keyhold's login for partition " + e.partition()
                : "the HSM partition " + e.partition() + " is unavailable";
        LOG.warnf("HSM failure (%s): %s", e.getClass().getSimpleName(), e.getMessage());
        return respond(503, "hsm-unavailable", "HSM unavailable", detail, uri, null);
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e, UriInfo uri) {
        int status = e.getResponse() == null ? 500 : e.getResponse().getStatus();
        if (status < 400) {
            return e.getResponse();
        }
        // The JSON body reader reports some parse failures (e.g. a duplicate member) as a bare 400 with the cause.
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            if (c instanceof JsonProcessingException j) {
                return badJson(j, uri);
            }
        }
        String title = Response.Status.fromStatusCode(status) != null
                ? Response.Status.fromStatusCode(status).getReasonPhrase() : "Error";
        String detail = switch (status) {
            case 404 -> "no such resource";
            case 405 -> "method not allowed on this resource";
            case 406 -> "no acceptable representation";
            case 415 -> "unsupported content type; send application/json";
            default -> title;
        };
        Response.ResponseBuilder b = Response.fromResponse(respond(status, "http-" + status, title, detail, uri, null));
        if (e.getResponse() != null && e.getResponse().getHeaderString("Allow") != null) {
            b.header("Allow", e.getResponse().getHeaderString("Allow"));
        }
        return b.build();
    }

    /** Everything else: look through wrappers for a known cause, else a bare 500 with nothing internal. */
    @ServerExceptionMapper
    public Response unexpected(Throwable e, UriInfo uri) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof ProblemException p) {
                return problem(p, uri);
            }
            if (c instanceof HsmException h) {
                return hsm(h, uri);
            }
            if (c instanceof JsonProcessingException j) {
                return badJson(j, uri);
            }
            if (c instanceof org.hibernate.exception.ConstraintViolationException
                    || c instanceof OptimisticLockException
                    || c instanceof org.hibernate.StaleStateException
                    || (c instanceof SQLException s && "40001".equals(s.getSQLState()))) {
                return respond(409, "concurrent-change", "Conflict with a concurrent change",
                        "another request changed the same thing at the same time; retry", uri, null);
            }
            if (c instanceof SQLException s && s.getSQLState() != null
                    && (s.getSQLState().equals("22021") || s.getSQLState().equals("22P05"))) {
                // text the database cannot store (a NUL character, an unpaired surrogate): the caller's input
                return respond(400, "bad-request", "Bad request",
                        "the input holds characters that cannot be stored (e.g. NUL)", uri, null);
            }
            if (c instanceof SQLTransientConnectionException || c instanceof org.hibernate.exception.JDBCConnectionException
                    || (c instanceof SQLException s && s.getSQLState() != null && s.getSQLState().startsWith("08"))) {
                LOG.warn("database unavailable", e);
                return respond(503, "database-unavailable", "Database unavailable", "the database is unavailable", uri, null);
            }
        }
        LOG.error("unexpected failure", e);
        return respond(500, "internal", "Internal error", "an internal error occurred; it has been logged", uri, null);
    }

    static Response respond(int status, String slug, String title, String detail, UriInfo uri, Map<String, Object> ext) {
        String instance = uri == null ? null : uri.getPath();
        Response.ResponseBuilder b = Response.status(status)
                .type(Problem.MEDIA_TYPE)
                .entity(new Problem(Problem.typeUri(slug), title, status, detail, instance, ext));
        if (status == 503) {
            b.header("Retry-After", Problem.RETRY_AFTER_SECONDS);
        }
        return b.build();
    }

    private static String path(JsonMappingException m) {
        return m.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining("."));
    }

    private static String lastNode(String path) {
        int i = path.lastIndexOf('.');
        return i < 0 ? path : path.substring(i + 1);
    }
}
