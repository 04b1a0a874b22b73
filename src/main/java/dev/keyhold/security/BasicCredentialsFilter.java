package dev.keyhold.security;

import dev.keyhold.error.Problem;
import dev.keyhold.http.PublicDocuments;
import io.quarkus.vertx.web.RouteFilter;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * A malformed {@code Authorization: Basic} header (not base64, a space inside, no colon) is refused here with a 401
 * problem. Left to the authentication mechanism, its base64 decoder throws, which surfaced as a 500 with a stack
 * trace in the log, reachable without any credential.
 */
public class BasicCredentialsFilter {

    /** RFC 7617 credentials: token68, in practice standard base64 with its padding. */
    private static final Pattern BASE64 =
            Pattern.compile("(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?");

    static final String CHALLENGE = "Basic realm=\"keyhold\", Bearer";

    @RouteFilter(7_000)
    void check(RoutingContext rc) {
        String auth = rc.request().getHeader("Authorization");
        // The public documents ignore credentials, so a malformed header is let through there; the path is matched
        // only for a malformed header, never for a request without one or with a good one.
        if (auth == null
                || wellFormed(auth)
                || PublicDocuments.matches(rc.request().path())) {
            rc.next();
            return;
        }
        JsonObject body = new JsonObject()
                .put("type", Problem.typeUri("unauthenticated"))
                .put("title", "Authentication required")
                .put("status", 401)
                .put("detail", "the Authorization header is malformed")
                .put("instance", rc.request().path());
        rc.response()
                .setStatusCode(401)
                .putHeader("Content-Type", Problem.MEDIA_TYPE)
                .putHeader("WWW-Authenticate", CHALLENGE)
                .end(body.encode());
    }

    /** Anything but Basic is left to its mechanism; Basic must be followed by one space and base64 of "user:password". */
    static boolean wellFormed(String header) {
        if (!header.regionMatches(true, 0, "basic", 0, 5)) {
            return true;
        }
        if (header.length() < 7 || header.charAt(5) != ' ') {
            return false;
        }
        String credentials = header.substring(6);
        if (!BASE64.matcher(credentials).matches()) {
            return false;
        }
        for (byte b : Base64.getDecoder().decode(credentials)) {
            if (b == ':') {
                return true;
            }
        }
        return false;
    }
}
