package dev.keyhold.error;

import java.util.List;
import java.util.Map;

/** Input that parsed but does not make sense; lists every field at fault so one round trip fixes them all. */
public class ValidationException extends ProblemException {

    public record FieldError(String field, String message) {}

    public ValidationException(List<FieldError> errors) {
        super(
                Kind.INVALID,
                "invalid-request",
                "The request is not valid",
                errors.stream()
                        .map(e -> e.field() + ": " + e.message())
                        .reduce((a, b) -> a + "; " + b)
                        .orElse("invalid"),
                Map.of("errors", List.copyOf(errors)));
    }
}
