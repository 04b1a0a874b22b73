package dev.keyhold.audit;

import dev.keyhold.error.ProblemException;
import dev.keyhold.error.ValidationException.FieldError;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Parses query parameters by hand: JAX-RS turns an unparsable numeric query parameter into a 404, and a caller who
 * typed {@code limit=ten} deserves a 400 naming the parameter. Collects every error so one round trip fixes all.
 */
public final class QueryParams {

    public static final int MAX_LIMIT = 1000;
    static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
    static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");

    private final List<FieldError> errors = new ArrayList<>();

    public long seq(String name, String value) {
        if (value == null || value.isBlank()) {
            return 0;
        }
        try {
            long v = Long.parseLong(value.trim());
            if (v < 0) {
                errors.add(new FieldError(name, "must be a sequence number >= 0"));
            }
            return v;
        } catch (NumberFormatException e) {
            errors.add(new FieldError(name, "must be a sequence number >= 0"));
            return 0;
        }
    }

    public int limit(String value, int defaultLimit) {
        if (value == null || value.isBlank()) {
            return defaultLimit;
        }
        try {
            int v = Integer.parseInt(value.trim());
            if (v >= 1 && v <= MAX_LIMIT) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        errors.add(new FieldError("limit", "must be an integer from 1 to " + MAX_LIMIT));
        return defaultLimit;
    }

    /** ISO-8601 instant with Z or an offset, e.g. {@code 2026-11-23T10:00:00Z}. */
    public Instant instant(String name, String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            Instant t = OffsetDateTime.parse(value.trim()).toInstant();
            // java.time reaches year 1,000,000,000; the database (and any sane query) does not.
            if (t.isBefore(EARLIEST) || t.isAfter(LATEST)) {
                errors.add(new FieldError(name, "must be between " + EARLIEST + " and " + LATEST));
                return null;
            }
            return t;
        } catch (DateTimeParseException e) {
            errors.add(new FieldError(name, "must be an ISO-8601 date-time with offset, e.g. 2026-01-31T12:00:00Z"));
            return null;
        }
    }

    public String text(String name, String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        if (value.length() > 200) {
            errors.add(new FieldError(name, "at most 200 characters"));
        } else if (value.indexOf('\u0000') >= 0) {
            errors.add(new FieldError(name, "must not contain NUL characters"));
        }
        return value;
    }

    public void check(boolean ok, String name, String message) {
        if (!ok) {
            errors.add(new FieldError(name, message));
        }
    }

    /** Throws a bad-request problem listing every bad parameter, if there is one. */
    public void done() {
        if (!errors.isEmpty()) {
            throw new ProblemException(
                    ProblemException.Kind.BAD_REQUEST,
                    "invalid-query",
                    "Invalid query parameters",
                    errors.stream()
                            .map(e -> e.field() + ": " + e.message())
                            .reduce((a, b) -> a + "; " + b)
                            .orElseThrow(),
                    Map.of("errors", List.copyOf(errors)));
        }
    }
}
