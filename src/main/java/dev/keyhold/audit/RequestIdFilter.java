package dev.keyhold.audit;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/** Gives every request an id, echoed in {@code X-Request-Id} and written into the audit records it causes. */
@jakarta.inject.Singleton
public class RequestIdFilter {

    private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    /** Unique per process run, cheap to make: a random run prefix and a counter (no SecureRandom per request). */
    private static final String RUN = Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);

    private static final AtomicLong COUNTER = new AtomicLong();

    // Only the API records audit entries: registered under /v1/ only, so other paths (the public JWKS) never run it.
    void register(@Observes Router router) {
        router.route("/v1/*").order(-2000).handler(this::filter);
    }

    void filter(RoutingContext rc) {
        assign(rc.request());
        rc.next();
    }

    /** Gives the request its id (also for routes that answer ahead of this filter). */
    public static void assign(HttpServerRequest request) {
        String id = request.getHeader("X-Request-Id");
        if (id == null || !SANE.matcher(id).matches()) {
            id = RUN + "-" + Long.toString(COUNTER.incrementAndGet(), 36);
        }
        if (Vertx.currentContext() != null) {
            Vertx.currentContext().putLocal(RequestIds.KEY, id);
        }
        request.response().putHeader("X-Request-Id", id);
    }
}
