package dev.keyhold.error;

import java.util.Map;

/**
 * A classified failure: what {@link FailureClassifier} decided about an exception, before it is rendered as problem
 * JSON ({@link ProblemRenderer}) or as a page ({@link PageRenderer}). Holds nothing internal: no class names, no
 * stack traces, no key material.
 *
 * @param headers response headers that belong to the answer (Retry-After, Allow, WWW-Authenticate)
 */
public record Failure(
        int status,
        String slug,
        String title,
        String detail,
        Map<String, Object> extensions,
        Map<String, String> headers) {

    public Failure {
        extensions = extensions == null ? Map.of() : Map.copyOf(extensions);
        headers = headers == null ? Map.of() : Map.copyOf(headers);
    }

    Failure(int status, String slug, String title, String detail) {
        this(status, slug, title, detail, null, null);
    }

    Failure withHeader(String name, String value) {
        Map<String, String> h = new java.util.LinkedHashMap<>(headers);
        h.put(name, value);
        return new Failure(status, slug, title, detail, extensions, h);
    }
}
