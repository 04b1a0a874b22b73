package dev.keyhold.events;

import dev.keyhold.error.Problem;
import io.quarkus.vertx.web.Route;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.List;

/**
 * {@code GET /v1/events/stream}: the event feed as Server-Sent Events. Each event is {@code id: <seq>},
 * {@code event: <type>}, {@code data: <CloudEvent JSON>}. A client resumes with {@code Last-Event-ID} (browsers send
 * it on reconnect) or {@code ?after=}; with neither it gets the events committed after it connected. Comment lines
 * ({@code : heartbeat}) keep idle connections open.
 *
 * <p>A plain Vert.x route rather than a JAX-RS resource, for exact control of what is written and when: the headers
 * go out at once, and each event is flushed as it is read. Everything written happens on the connection's event loop;
 * the outbox is read on a worker ({@code executeBlocking}), one read at a time per connection, every
 * {@code keyhold.events.poll-interval}. The outbox is visible in commit order (ChangeRecorder), so "seq > cursor"
 * never skips an event that committed late.
 */
@ApplicationScoped
public class EventStream {

    static final int BATCH = 500;
    private static final Logger LOG = Logger.getLogger(EventStream.class);

    @Inject
    OutboxReader reader;
    @Inject
    EventsSettings settings;

    @Route(path = "/v1/events/stream", methods = Route.HttpMethod.GET, order = 1)
    void stream(RoutingContext rc) {
        String lastEventId = rc.request().getHeader("Last-Event-ID");
        String after = lastEventId != null && !lastEventId.isBlank() ? lastEventId : rc.request().getParam("after");
        Long cursor = null;
        if (after != null && !after.isBlank()) {
            try {
                cursor = Long.parseLong(after.trim());
            } catch (NumberFormatException e) {
                cursor = -1L;
            }
            if (cursor < 0) {
                badRequest(rc, (lastEventId != null && !lastEventId.isBlank() ? "Last-Event-ID" : "after")
                        + ": must be a sequence number >= 0");
                return;
            }
        }
        Context ctx = Vertx.currentContext();
        if (cursor != null) {
            open(rc, ctx, cursor);
            return;
        }
        // "From now on" means from the head as it is before the client sees the stream open.
        ctx.executeBlocking(reader::head, false).onComplete(ar -> {
            if (ar.succeeded()) {
                open(rc, ctx, ar.result());
            } else {
                rc.fail(ar.cause());
            }
        });
    }

    private void open(RoutingContext rc, Context ctx, long cursor) {
        HttpServerResponse res = rc.response();
        res.putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-store")
                .putHeader("X-Accel-Buffering", "no");
        if (dev.keyhold.http.HeadRequests.isHead(rc)) {
            // HEAD: the stream's status and headers, then done (a HEAD response never has a body to wait for).
            res.end();
            return;
        }
        res.setChunked(true);
        // Tells clients how long to wait before reconnecting, and sends the headers now.
        res.write("retry: 1000\n\n");
        new Session(rc, ctx, cursor).start();
    }

    private static void badRequest(RoutingContext rc, String detail) {
        JsonObject body = new JsonObject()
                .put("type", Problem.typeUri("invalid-query"))
                .put("title", "Invalid query parameters")
                .put("status", 400)
                .put("detail", detail)
                .put("instance", rc.request().path());
        rc.response().setStatusCode(400).putHeader("Content-Type", Problem.MEDIA_TYPE).end(body.encode());
    }

    /** One open stream. All fields are touched only on its event-loop context. */
    private final class Session {
        private final RoutingContext rc;
        private final Context ctx;
        private long cursor;
        private boolean reading;
        private boolean closed;
        private long pollTimer = -1;
        private long heartbeatTimer = -1;

        Session(RoutingContext rc, Context ctx, long cursor) {
            this.rc = rc;
            this.ctx = ctx;
            this.cursor = cursor;
        }

        void start() {
            Vertx vertx = ctx.owner();
            rc.response().closeHandler(v -> close());
            rc.response().exceptionHandler(e -> close());
            pollTimer = vertx.setPeriodic(Math.max(10, settings.pollInterval().toMillis()), id -> poll());
            heartbeatTimer = vertx.setPeriodic(Math.max(10, settings.heartbeat().toMillis()), id -> heartbeat());
            poll();
        }

        void poll() {
            // A slow client fills its write queue; stop reading until it drains rather than buffer without bound.
            if (closed || reading || rc.response().writeQueueFull()) {
                return;
            }
            reading = true;
            long from = cursor;
            ctx.executeBlocking(() -> reader.after(from, BATCH), false).onComplete(ar -> {
                reading = false;
                if (closed) {
                    return;
                }
                if (ar.failed()) {
                    // Database briefly unavailable: keep the stream, try again on the next tick.
                    LOG.debugf("event stream poll failed: %s", ar.cause().getMessage());
                    return;
                }
                StringBuilder out = new StringBuilder();
                for (OutboxEvent e : ar.result()) {
                    out.append("id: ").append(e.seq()).append('\n')
                            .append("event: ").append(e.type()).append('\n')
                            .append("data: ").append(e.toCloudEventJson()).append("\n\n");
                    cursor = e.seq();
                }
                if (!out.isEmpty()) {
                    rc.response().write(out.toString());
                }
                if (ar.result().size() == BATCH) {
                    poll(); // more waiting: catch up without waiting for the next tick
                }
            });
        }

        void heartbeat() {
            if (!closed && !rc.response().writeQueueFull()) {
                rc.response().write(": heartbeat\n\n");
            }
        }

        void close() {
            closed = true;
            ctx.owner().cancelTimer(pollTimer);
            ctx.owner().cancelTimer(heartbeatTimer);
        }
    }
}
