package dev.keyhold.http;

import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.event.Observes;

/**
 * HEAD answers like GET without the body (RFC 9110 §9.3.2) on every route that serves GET, including the Vert.x
 * routes (JWKS, event stream, trust bundles) that declare GET only: the request is routed again as a GET. The
 * response still knows the connection's request was HEAD, so Vert.x writes the status and headers and drops the
 * body. Handlers that would stream forever (SSE) ask {@link #isHead} and end after the headers.
 */
@jakarta.inject.Singleton
public class HeadRequests {

    private static final String KEY = "keyhold.head";

    // Runs first, so every other filter sees the request once, as a GET. Registered for HEAD only: a GET never
    // runs it.
    void register(@Observes Router router) {
        router.route().method(HttpMethod.HEAD).order(-10_000).handler(this::head);
    }

    void head(RoutingContext rc) {
        if (rc.request().method() == HttpMethod.HEAD && rc.get(KEY) == null) {
            rc.put(KEY, Boolean.TRUE);
            rc.reroute(HttpMethod.GET, rc.request().uri());
            return;
        }
        rc.next();
    }

    /** True when the client asked for HEAD (the route sees GET). */
    public static boolean isHead(RoutingContext rc) {
        return rc.get(KEY) != null;
    }
}
