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
import java.util.List;
import org.jboss.logging.Logger;

/**
 * {@code GET /v1/events/stream}: the event feed as Server-Sent Events. Each event is {@code id: <seq>},
 * {@code event: <type>}, {@code data: <CloudEvent JSON>}. A client resumes with {@code Last-Event-ID} (browsers send
 * it on reconnect) or {@code ?after=}; with neither it gets the events committed after it connected. Comment lines
 * ({@code : heartbeat}) keep idle connections open.
 *
 * <p>A plain Vert.x route rather than a JAX-RS resource, for exact control of what is written and when: the headers
 * go out at once, and each event is flushed as it is read. Everything written happens on the connection's event loop.
 * The outbox is read once per {@code keyhold.events.poll-interval} for all streams together by the
 * {@link OutboxFollower}, which fans each batch out; a stream behind it (a resume from an older id, a slow client)
 * reads on its own, on a worker, until it has caught up. The outbox is visible in commit order (ChangeRecorder), so
 * "seq > cursor" never skips an event that committed late.
 */
@ApplicationScoped
public class EventStream {

    static final int BATCH = 500;
    private static final Logger LOG = Logger.getLogger(EventStream.class);

    @Inject
    OutboxReader reader;

    @Inject
    EventsSettings settings;

    @Inject
    OutboxFollower follower;

    @Route(path = "/v1/events/stream", methods = Route.HttpMethod.GET, order = 1)
    void stream(RoutingContext rc) {
        String lastEventId = rc.request().getHeader("Last-Event-ID");
        String after = lastEventId != null && !lastEventId.isBlank()
                ? lastEventId
                : rc.request().getParam("after");
        Long cursor = null;
        if (after != null && !after.isBlank()) {
            try {
                cursor = Long.parseLong(after.trim());
            } catch (NumberFormatException e) {
                cursor = -1L;
            }
            if (cursor < 0) {
                badRequest(
                        rc,
                        (lastEventId != null && !lastEventId.isBlank() ? "Last-Event-ID" : "after")
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
        rc.response()
                .setStatusCode(400)
                .putHeader("Content-Type", Problem.MEDIA_TYPE)
                .end(body.encode());
    }

    /**
     * One open stream. All fields are touched only on its event-loop context. While behind the follower it reads the
     * outbox itself (catching up); once level it joins the {@link OutboxFollower} and writes what that delivers.
     */
    private final class Session implements OutboxFollower.Subscriber {
        private final RoutingContext rc;
        private final Context ctx;
        private long cursor;
        private boolean live;
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
            rc.response().closeHandler(v -> close());
            rc.response().exceptionHandler(e -> close());
            follower.opened(this);
            heartbeatTimer =
                    ctx.owner().setPeriodic(Math.max(10, settings.heartbeat().toMillis()), id -> heartbeat());
            catchUp();
        }

        /**
         * Behind the follower: one read of its own, then try to join; retried every poll interval until it has
         * joined. A live stream has no timer of its own: the follower delivers to it.
         */
        void catchUp() {
            if (closed || live) {
                return;
            }
            if (pollTimer < 0) {
                pollTimer = ctx.owner()
                        .setPeriodic(Math.max(10, settings.pollInterval().toMillis()), id -> catchUp());
            }
            // A slow client fills its write queue; stop reading until it drains rather than buffer without bound.
            if (reading || rc.response().writeQueueFull()) {
                return;
            }
            if (follower.join(this, cursor)) {
                live = true;
                ctx.owner().cancelTimer(pollTimer);
                pollTimer = -1;
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
                write(ar.result());
                if (!ar.result().isEmpty()) {
                    catchUp(); // join, or read on without waiting for the next tick
                }
            });
        }

        @Override
        public void deliver(List<OutboxEvent> events) {
            ctx.runOnContext(v -> {
                if (closed || !live) {
                    return;
                }
                if (rc.response().writeQueueFull()) {
                    // Too slow for the live feed: leave it and catch up on its own once the client has drained.
                    live = false;
                    follower.fellBehind(this);
                    catchUp(); // polls again, reading once the client has drained
                    return;
                }
                write(events);
            });
        }

        private void write(List<OutboxEvent> events) {
            StringBuilder out = new StringBuilder();
            for (OutboxEvent e : events) {
                if (e.seq() <= cursor) {
                    continue;
                }
                out.append("id: ")
                        .append(e.seq())
                        .append('\n')
                        .append("event: ")
                        .append(e.type())
                        .append('\n')
                        .append("data: ")
                        .append(e.toCloudEventJson())
                        .append("\n\n");
                cursor = e.seq();
            }
            if (!out.isEmpty()) {
                rc.response().write(out.toString());
            }
        }

        void heartbeat() {
            if (!closed && !rc.response().writeQueueFull()) {
                rc.response().write(": heartbeat\n\n");
            }
        }

        void close() {
            if (closed) {
                return;
            }
            closed = true;
            live = false;
            follower.closed(this);
            ctx.owner().cancelTimer(pollTimer);
            ctx.owner().cancelTimer(heartbeatTimer);
        }
    }
}
