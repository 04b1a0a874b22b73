package dev.keyhold.http;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The public documents: readable by anyone, from any origin, with no credentials. Only these get CORS; the
 * credentialed API never does, so a page on another origin can read keys and events but never act for a user.
 */
public final class PublicDocuments {

    /** Their routes, as Vert.x route paths: filters that serve only them are registered on exactly these. */
    public static final List<String> PATHS = List.of(
            "/issuers/:id/.well-known/jwks.json",
            "/issuers/:id/trust-bundle",
            "/issuers/:id/trust-bundles/:sequence",
            "/v1/trust-anchor",
            "/v1/events",
            "/v1/events/stream");

    private static final Pattern PATTERN =
            Pattern.compile("/issuers/[^/]+/(?:\\.well-known/jwks\\.json|trust-bundle|trust-bundles/[^/]+)"
                    + "|/v1/trust-anchor|/v1/events|/v1/events/stream");

    private PublicDocuments() {}

    public static boolean matches(String path) {
        return path != null && PATTERN.matcher(path).matches();
    }
}
