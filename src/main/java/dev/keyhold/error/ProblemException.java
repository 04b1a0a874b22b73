package dev.keyhold.error;

import java.util.Map;

/**
 * A refusal the caller can act on. It says what went wrong (its {@link Kind}), not which HTTP status to send:
 * {@link FailureClassifier} decides that once, for the API's problem JSON and the console's pages alike. Call sites
 * raise these through the static factories ({@code ProblemException.conflict(...)}, {@code notFound}, ...).
 */
public class ProblemException extends RuntimeException {

    /** What kind of refusal this is; the classifier maps each kind to one status. */
    public enum Kind {
        /** The input cannot be read or makes no sense on its own. */
        BAD_REQUEST,
        /** The input parsed, but fields are wrong (the field errors travel as the {@code errors} extension). */
        INVALID,
        FORBIDDEN,
        NOT_FOUND,
        /** The request contradicts the current state. */
        CONFLICT,
        /** Well-formed and allowed, but not something this service will do (e.g. a window too large). */
        UNPROCESSABLE,
        /** A limit is exhausted; the {@code retryAfter} extension says for how many seconds. */
        RATE_LIMITED,
        /** A dependency (HSM, database) is unavailable; retrying later may succeed. */
        UNAVAILABLE
    }

    private final Kind kind;
    private final String slug;
    private final String title;
    private final Map<String, Object> extensions;

    public ProblemException(Kind kind, String slug, String title, String detail, Map<String, Object> extensions) {
        super(detail);
        this.kind = kind;
        this.slug = slug;
        this.title = title;
        this.extensions = extensions == null ? Map.of() : Map.copyOf(extensions);
    }

    /**
     * For call sites written against status codes: the status is read back as the kind that the classifier maps
     * to it. New code names the kind.
     */
    public ProblemException(int status, String slug, String title, String detail, Map<String, Object> extensions) {
        this(FailureClassifier.kindOf(status), slug, title, detail, extensions);
    }

    public Kind kind() {
        return kind;
    }

    /** The status the API answers with for this refusal (decided by {@link FailureClassifier}, not here). */
    public int status() {
        return FailureClassifier.statusOf(kind);
    }

    public String slug() {
        return slug;
    }

    public String title() {
        return title;
    }

    public Map<String, Object> extensions() {
        return extensions;
    }

    public static ProblemException notFound(String what, String id) {
        return new NotFound(what + " not found", what + " '" + id + "' does not exist");
    }

    public static ProblemException conflict(String slug, String detail) {
        return new Conflict(slug, detail);
    }

    public static ProblemException forbidden(String detail) {
        return new Forbidden("forbidden", "Forbidden", detail);
    }

    public static ProblemException badRequest(String detail) {
        return new BadRequest("bad-request", "Bad request", detail);
    }

    public static ProblemException unavailable(String slug, String detail) {
        return new Unavailable(slug, detail);
    }

    public static ProblemException unprocessable(String slug, String title, String detail) {
        return new ProblemException(Kind.UNPROCESSABLE, slug, title, detail, null);
    }

    /** Something named does not exist. */
    public static final class NotFound extends ProblemException {
        public NotFound(String title, String detail) {
            super(Kind.NOT_FOUND, "not-found", title, detail, null);
        }
    }

    /** The request contradicts the current state; {@code code} (the problem's slug) says which rule. */
    public static final class Conflict extends ProblemException {
        public Conflict(String code, String detail) {
            super(Kind.CONFLICT, code, "Conflict with the current state", detail, null);
        }
    }

    /** The caller may not do this. Every one is audited where it is answered. */
    public static class Forbidden extends ProblemException {
        public Forbidden(String code, String title, String detail) {
            super(Kind.FORBIDDEN, code, title, detail, null);
        }
    }

    /** Input that cannot be read, or that makes no sense on its own. */
    public static final class BadRequest extends ProblemException {
        public BadRequest(String code, String title, String detail) {
            super(Kind.BAD_REQUEST, code, title, detail, null);
        }
    }

    /** A dependency is down; retry later. */
    public static final class Unavailable extends ProblemException {
        public Unavailable(String code, String detail) {
            super(Kind.UNAVAILABLE, code, "Service unavailable", detail, null);
        }
    }
}
