package dev.keyhold.http;

import java.util.regex.Pattern;

/**
 * The public documents: readable by anyone, from any origin, with no credentials. Only these get CORS; the
 * credentialed API never does, so a page on another origin can read keys and events but never act for a user.
 */
public final class PublicDocuments {

    private static final Pattern PATHS = Pattern.compile(
            "/issuers/[^/]+/(?:\\.well-known/jwks\\.json|trust-bundle|trust-bundles/[^/]+)"
                    + "|/v1/trust-anchor|/v1/events|/v1/events/stream");

    private PublicDocuments() {
    }

    public static boolean matches(String path) {
        return path != null && PATHS.matcher(path).matches();
    }
}
