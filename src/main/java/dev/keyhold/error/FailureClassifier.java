package dev.keyhold.error;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.keyhold.domain.IllegalTransitionException;
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
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * The one place that decides what a failure means to the caller: every exception, from any layer, becomes one
 * {@link Failure} (status, problem type, wording). The API renders it as problem JSON, the console as a page, so the
 * same input gets the same status on both. Logs what an operator must see, once.
 */
public final class FailureClassifier {

    private static final Logger LOG = Logger.getLogger(FailureClassifier.class);
    static final String CHALLENGE = "Basic realm=\"keyhold\", Bearer";

    /**
     * SQL states for text the database cannot store or read as the type asked for (a NUL character, an unpaired
     * surrogate, text where a number or UUID belongs): the caller's input, so 400, never 500.
     */
    static final Set<String> INVALID_TEXT_STATES = Set.of("22021", "22P05", "22P02");

    private FailureClassifier() {}

    /** The status each kind of application refusal gets, here and nowhere else. */
    public static int statusOf(ProblemException.Kind kind) {
        return switch (kind) {
            case BAD_REQUEST -> 400;
            case FORBIDDEN -> 403;
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case INVALID, UNPROCESSABLE -> 422;
            case RATE_LIMITED -> 429;
            case UNAVAILABLE -> 503;
        };
    }

    /** The kind a status names, for call sites still written against status codes. */
    static ProblemException.Kind kindOf(int status) {
        return switch (status) {
            case 403 -> ProblemException.Kind.FORBIDDEN;
            case 404 -> ProblemException.Kind.NOT_FOUND;
            case 409 -> ProblemException.Kind.CONFLICT;
            case 422 -> ProblemException.Kind.UNPROCESSABLE;
            case 429 -> ProblemException.Kind.RATE_LIMITED;
            case 503 -> ProblemException.Kind.UNAVAILABLE;
            default -> ProblemException.Kind.BAD_REQUEST;
        };
    }

    public static Failure classify(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            Failure f = direct(c);
            if (f != null) {
                return f;
            }
        }
        LOG.error("unexpected failure", e);
        return new Failure(500, "internal", "Internal error", "an internal error occurred; it has been logged");
    }

    /** The classification of this exception itself, or null when only a cause may say more. */
    private static Failure direct(Throwable c) {
        if (c instanceof ProblemException p) {
            Failure f = new Failure(statusOf(p.kind()), p.slug(), p.title(), p.getMessage(), p.extensions(), null);
            Object retry = p.extensions().get("retryAfter");
            return p.kind() == ProblemException.Kind.RATE_LIMITED && retry != null
                    ? f.withHeader("Retry-After", String.valueOf(retry))
                    : f;
        }
        if (c instanceof IllegalTransitionException t) {
            return new Failure(409, t.slug(), "Conflict with the current state", t.getMessage());
        }
        if (c instanceof UnauthorizedException
                || c instanceof AuthenticationFailedException
                || c instanceof AuthenticationCompletionException
                || c instanceof AuthenticationRedirectException) {
            return new Failure(401, "unauthenticated", "Authentication required", "valid credentials are required")
                    .withHeader("WWW-Authenticate", CHALLENGE);
        }
        if (c instanceof ForbiddenException) {
            return new Failure(403, "forbidden", "Forbidden", "your role does not allow this");
        }
        if (c instanceof JsonProcessingException j) {
            return badJson(j);
        }
        if (c instanceof ConstraintViolationException v) {
            List<ValidationException.FieldError> errors = v.getConstraintViolations().stream()
                    .map(x -> new ValidationException.FieldError(
                            lastNode(x.getPropertyPath().toString()), x.getMessage()))
                    .toList();
            return new Failure(
                    400,
                    "invalid-request",
                    "The request is not valid",
                    errors.stream().map(x -> x.field() + ": " + x.message()).collect(Collectors.joining("; ")),
                    Map.of("errors", errors),
                    null);
        }
        if (c instanceof HsmException h) {
            return hsm(h);
        }
        if (c instanceof WebApplicationException w) {
            return web(w);
        }
        if (c instanceof org.hibernate.exception.ConstraintViolationException
                || c instanceof OptimisticLockException
                || c instanceof org.hibernate.StaleStateException
                || (c instanceof SQLException s && "40001".equals(s.getSQLState()))) {
            return new Failure(
                    409,
                    "concurrent-change",
                    "Conflict with a concurrent change",
                    "another request changed the same thing at the same time; retry");
        }
        if (c instanceof SQLException s && s.getSQLState() != null && INVALID_TEXT_STATES.contains(s.getSQLState())) {
            return new Failure(
                    400,
                    "bad-request",
                    "Bad request",
                    "the input holds characters that cannot be stored (e.g. NUL) or text of the wrong form");
        }
        if (c instanceof SQLTransientConnectionException
                || c instanceof org.hibernate.exception.JDBCConnectionException
                || (c instanceof SQLException s
                        && s.getSQLState() != null
                        && s.getSQLState().startsWith("08"))) {
            LOG.warn("database unavailable", c);
            return new Failure(503, "database-unavailable", "Database unavailable", "the database is unavailable");
        }
        return null;
    }

    private static Failure hsm(HsmException e) {
        if (e instanceof HsmObjectMissingException) {
            LOG.errorf("HSM object missing in partition %s", e.partition());
            return new Failure(
                    409,
                    "key-material-missing",
                    "The key's HSM object is missing",
                    "the key cannot be used: its HSM object is missing");
        }
        LOG.warnf("HSM failure (%s): %s", e.getClass().getSimpleName(), e.getMessage());
        return new Failure(
                503,
                "hsm-unavailable",
                "HSM unavailable",
                e instanceof HsmAuthenticationException
                        ? "the HSM refused Keyhold's login for partition " + e.partition()
                        : "the HSM partition " + e.partition() + " is unavailable");
    }

    private static Failure web(WebApplicationException e) {
        int status = e.getResponse() == null ? 500 : e.getResponse().getStatus();
        // The JSON body reader reports some parse failures (e.g. a duplicate member) as a bare 400 with the cause.
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            if (c instanceof JsonProcessingException j) {
                return badJson(j);
            }
        }
        Response.Status known = Response.Status.fromStatusCode(status);
        String title = known != null ? known.getReasonPhrase() : "Error";
        String detail = switch (status) {
            case 404 -> "no such resource";
            case 405 -> "method not allowed on this resource";
            case 406 -> "no acceptable representation";
            case 415 -> "unsupported content type; send application/json";
            default -> title;
        };
        Failure f = new Failure(status, "http-" + status, title, detail);
        String allow = e.getResponse() == null ? null : e.getResponse().getHeaderString("Allow");
        return allow == null ? f : f.withHeader("Allow", allow);
    }

    private static Failure badJson(JsonProcessingException e) {
        String detail = "the body is not valid JSON for this request";
        if (e instanceof UnrecognizedPropertyException u) {
            detail = "unknown field '" + u.getPropertyName() + "'";
        } else if (e instanceof JsonParseException p
                && String.valueOf(p.getOriginalMessage()).startsWith("Duplicate field")) {
            detail = "a JSON object has a duplicate member: "
                    + p.getOriginalMessage().replace("Duplicate field", "field");
        } else if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            detail = "field '"
                    + m.getPath().stream()
                            .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                            .collect(Collectors.joining("."))
                    + "' has the wrong type or form";
        }
        return new Failure(400, "malformed-body", "Malformed request body", detail);
    }

    private static String lastNode(String path) {
        int i = path.lastIndexOf('.');
        return i < 0 ? path : path.substring(i + 1);
    }
}
