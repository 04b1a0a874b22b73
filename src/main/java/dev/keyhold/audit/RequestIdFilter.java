package dev.keyhold.audit;

import io.quarkus.vertx.web.RouteFilter;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;

import java.util.UUID;
import java.util.regex.Pattern;

/** Gives every request an id, echoed in {@code X-Request-Id} and written into the audit records it causes. */
public class RequestIdFilter {

    private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    @RouteFilter(2000)
    void assign(RoutingContext rc) {
        String id = rc.request().getHeader("X-Request-Id");
        if (id == null || !SANE.matcher(id).matches()) {
            id = UUID.randomUUID().toString();
        }
        if (Vertx.currentContext() != null) {
            Vertx.currentContext().putLocal(RequestIds.KEY, id);
        }
        rc.response().putHeader("X-Request-Id", id);
        rc.next();
    }
}
