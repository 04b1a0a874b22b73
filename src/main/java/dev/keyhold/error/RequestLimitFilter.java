package dev.keyhold.error;

import io.quarkus.vertx.web.RouteFilter;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;

/**
 * Refuses an over-long URL (414) or oversized headers (431) with a problem document. The HTTP decoder's own limits
 * ({@code quarkus.http.limits.max-initial-line-length}, {@code max-header-size}) are set well above these, because
 * what the decoder refuses it answers with a bare status and no body (Quarkus exposes no hook for Vert.x's
 * invalid-request handler); only a request beyond those hard limits still gets the bare answer.
 */
public class RequestLimitFilter {

    @jakarta.inject.Inject
    dev.keyhold.http.HttpLimits limits;

    @RouteFilter(8_000)
    void limit(RoutingContext rc) {
        int maxUri = limits.maxUriLength();
        int maxHeaders = limits.maxHeaderSize();
        if (rc.request().uri().length() > maxUri) {
            refuse(rc, 414, "uri-too-long", "URI too long", "the request URI exceeds " + maxUri + " characters");
            return;
        }
        long size = 0;
        for (Map.Entry<String, String> h : rc.request().headers()) {
            size += h.getKey().length() + h.getValue().length() + 4;
        }
        if (size > maxHeaders) {
            refuse(
                    rc,
                    431,
                    "headers-too-large",
                    "Request header fields too large",
                    "the request headers exceed " + maxHeaders + " bytes");
            return;
        }
        rc.next();
    }

    private static void refuse(RoutingContext rc, int status, String slug, String title, String detail) {
        rc.response()
                .setStatusCode(status)
                .putHeader("Content-Type", Problem.MEDIA_TYPE)
                .putHeader("Connection", "close")
                .end(ProblemRenderer.json(new Failure(status, slug, title, detail), null));
    }
}
