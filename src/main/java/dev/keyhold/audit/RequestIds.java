package dev.keyhold.audit;

import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * The id of the HTTP request being served, for audit records: the caller's {@code X-Request-Id} when it is
 * sane, else one made by {@link RequestIdFilter}. Null outside requests (the scheduler).
 */
@jakarta.enterprise.context.ApplicationScoped
public class RequestIds {

    static final String KEY = "keyhold.request-id";

    public String current() {
        Context ctx = Vertx.currentContext();
        return ctx == null ? null : ctx.getLocal(KEY);
    }
}
