package dev.keyhold.http;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.event.Observes;

/**
 * CORS for the public documents only ({@link PublicDocuments}): {@code Access-Control-Allow-Origin: *} on every
 * answer (also 304, 404, 503), and preflights answered here. {@code *} never admits credentials, which is the point:
 * a browser on another origin reads keys and events (panva/jose's {@code createRemoteJWKSet} uses {@code fetch}),
 * and nothing else. The credentialed API gets no CORS headers at all, so browsers refuse cross-origin calls to it.
 */
@jakarta.inject.Singleton
public class Cors {

    static final String ALLOW_HEADERS = "If-None-Match, Last-Event-ID, Cache-Control, Accept";
    static final String EXPOSE_HEADERS = "ETag, Retry-After";
    static final String MAX_AGE = "86400";

    /** On the public documents' own paths only ({@link PublicDocuments#PATHS}): no other request runs it. */
    void register(@Observes Router router) {
        for (String path : PublicDocuments.PATHS) {
            router.route(path).order(-9_000).handler(this::cors);
        }
    }

    void cors(RoutingContext rc) {
        HttpServerResponse res = rc.response();
        res.putHeader("Access-Control-Allow-Origin", "*");
        boolean preflight = rc.request().method() == HttpMethod.OPTIONS
                && rc.request().getHeader("Origin") != null
                && rc.request().getHeader("Access-Control-Request-Method") != null;
        if (preflight) {
            res.putHeader("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
                    .putHeader("Access-Control-Allow-Headers", ALLOW_HEADERS)
                    .putHeader("Access-Control-Max-Age", MAX_AGE)
                    .setStatusCode(204)
                    .end();
            return;
        }
        res.putHeader("Access-Control-Expose-Headers", EXPOSE_HEADERS);
        rc.next();
    }
}
