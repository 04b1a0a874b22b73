package dev.keyhold.error;

import jakarta.ws.rs.core.Response;

/**
 * Pages for people instead of problem JSON, on the paths that serve people (the console: {@code console/ConsoleErrors}).
 * An interface here so that the error layer depends on nothing above it.
 */
public interface HtmlErrors {

    /** The answer to a failed authentication on {@code path}, or null when the path does not serve people. */
    Response unauthenticated(String path, RuntimeException cause);
}
