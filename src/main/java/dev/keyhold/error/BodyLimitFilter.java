package dev.keyhold.error;

import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.vertx.web.RouteFilter;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Refuses an oversized body with a problem response before it is read: {@code keyhold.http.max-body-size} (64K),
 * or {@code keyhold.evidence.max-body-size} (2M) under {@code /v1/evidence/}, which takes up to 1,000 tokens per
 * call. Vert.x enforces {@code quarkus.http.limits.max-body-size} (the larger of the two) for bodies sent without
 * Content-Length, and answers those with a bare 413.
 */
public class BodyLimitFilter {

    @ConfigProperty(name = "keyhold.http.max-body-size", defaultValue = "64K")
    MemorySize maxBody;

    @ConfigProperty(name = "keyhold.evidence.max-body-size", defaultValue = "2M")
    MemorySize maxEvidenceBody;

    @RouteFilter(1000)
    void limit(RoutingContext rc) {
        String length = rc.request().getHeader("Content-Length");
        if (length != null) {
            long n = declared(length);
            long max = rc.request().path().startsWith("/v1/evidence/")
                    ? maxEvidenceBody.asLongValue()
                    : maxBody.asLongValue();
            if (n < 0 || n > max) {
                int status = n < 0 ? 400 : 413;
                JsonObject body = new JsonObject()
                        .put("type", Problem.typeUri(n < 0 ? "bad-request" : "body-too-large"))
                        .put("title", n < 0 ? "Bad request" : "Request body too large")
                        .put("status", status)
                        .put("detail", n < 0 ? "invalid Content-Length" : "the body exceeds " + max + " bytes")
                        .put("instance", rc.request().path());
                rc.response()
                        .setStatusCode(status)
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
