package dev.keyhold.error;

import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.vertx.web.RouteFilter;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Refuses an oversized body with a problem response before it is read. Vert.x enforces the same limit
 * for bodies sent without Content-Length, but answers those with a bare 413.
 */
public class BodyLimitFilter {

    @ConfigProperty(name = "quarkus.http.limits.max-body-size")
    MemorySize maxBody;

    @RouteFilter(1000)
    void limit(RoutingContext rc) {
        String length = rc.request().getHeader("Content-Length");
        if (length != null) {
            long n = declared(length);
            if (n < 0 || n > maxBody.asLongValue()) {
                int status = n < 0 ? 400 : 413;
                JsonObject body = new JsonObject()
                        .put("type", Problem.typeUri(n < 0 ? "bad-request" : "body-too-large"))
                        .put("title", n < 0 ? "Bad request" : "Request body too large")
                        .put("status", status)
                        .put("detail", n < 0 ? "invalid Content-Length" : "the body exceeds " + maxBody.asLongValue() + " bytes")
                        .put("instance", rc.request().path());
                rc.response().setStatusCode(status)
                        .putHeader("Content-Type", Problem.MEDIA_TYPE)
                        .putHeader("Connection", "close")
                        .end(body.encode());
                return;
            }
        }
        rc.next();
    }

    /** True when a Content-Length header declares a body this filter lets through. */
    public boolean allows(String contentLength) {
        long n = declared(contentLength);
        return n >= 0 && n <= maxBody.asLongValue();
    }

    /** The length a Content-Length header declares; -1 when it is not a number. */
    private static long declared(String contentLength) {
        try {
            return Long.parseLong(contentLength.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
