package dev.keyhold.validator;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Follows {@code GET /v1/events/stream}. After a disconnect it resumes from the last event it handled: it first
 * checks that the server still holds that event (same id and type; a server restored from a backup, or one that
 * dropped old events, cannot resume), reads what it missed with {@code GET /v1/events?after=} and hands each event
 * over, and only then reopens the stream with {@code Last-Event-ID} and reports itself connected. When it cannot
 * resume it opens the stream "from now" first and then asks for a full reload, so no change falls between the two.
 */
final class EventFeed {

    private static final System.Logger LOG = System.getLogger("dev.keyhold.validator");
    private static final int PAGE = 1000;

    /** One event of the feed, reduced to what a validator acts on. */
    record Event(long id, String type, String issuerId, String subject) {}

    interface Handler {
        /** Applies one event; called in feed order, never concurrently. */
        void onEvent(Event e);

        /** Reloads every issuer, synchronously (the feed is already open, from now). */
        void reloadAll();
    }

    private final URI base;
    private final HttpClient http;
    private final ScheduledExecutorService exec;
    private final java.util.concurrent.ExecutorService applier;
    private final Clock clock;
    private final Handler handler;
    private final Duration idleTimeout;
    private final Duration backoffInitial;
    private final Duration backoffMax;
    private final Duration requestTimeout;

    private final Object lock = new Object();
    private long generation;
    private Flow.Subscription subscription;
    private volatile boolean closed;
    private volatile boolean connected;
    private volatile Instant lostSince;
    private volatile long lastId = -1;
    private volatile String lastType;
    private volatile long lastLineNanos = System.nanoTime();
    private Duration backoff;
    private boolean reconnectScheduled;

    EventFeed(
            URI base,
            HttpClient http,
            ScheduledExecutorService exec,
            Clock clock,
            Handler handler,
            Duration idleTimeout,
            Duration backoffInitial,
            Duration backoffMax,
            Duration requestTimeout) {
        this.base = base;
        this.http = http;
        this.exec = exec;
        this.applier = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "keyhold-validator-events");
            t.setDaemon(true);
            return t;
        });
        this.clock = clock;
        this.handler = handler;
        this.idleTimeout = idleTimeout;
        this.backoffInitial = backoffInitial;
        this.backoffMax = backoffMax;
        this.backoff = backoffInitial;
        this.requestTimeout = requestTimeout;
    }

    /** Connects (and loads every issuer) before returning; on failure the feed counts as lost and retries. */
    void start() {
        lostSince = clock.instant();
        connect();
        if (!connected) {
            handler.reloadAll(); // no feed yet: still start with what the issuers' documents say
        }
        long tick = Math.max(50, idleTimeout.toMillis() / 4);
        exec.scheduleWithFixedDelay(this::watchdog, tick, tick, TimeUnit.MILLISECONDS);
    }

    boolean connected() {
        return connected;
    }

    /** When the feed was lost (null while connected). */
    Instant lostSince() {
        return lostSince;
    }

    long lastEventId() {
        return lastId;
    }

    void close() {
        closed = true;
        applier.shutdownNow();
        synchronized (lock) {
            generation++;
            if (subscription != null) {
                subscription.cancel();
            }
        }
    }

    /** Cuts the current connection as if the network had; it reconnects as after any loss. */
    void disconnect() {
        long gen;
        synchronized (lock) {
            gen = generation;
            if (subscription != null) {
                subscription.cancel();
            }
        }
        lost(gen, "disconnected");
    }

    private void connect() {
        if (closed) {
            return;
        }
        synchronized (lock) {
            reconnectScheduled = false;
        }
        try {
            long last = lastId;
            boolean resume = last > 0 && resumable(last);
            if (resume) {
                catchUp(last);
                open(lastId);
            } else {
                if (last > 0) {
                    LOG.log(
                            System.Logger.Level.WARNING,
                            "event " + last + " is no longer on the feed: reloading every issuer");
                }
                open(-1);
                handler.reloadAll();
            }
            synchronized (lock) {
                backoff = backoffInitial;
            }
            connected = true;
            lostSince = null;
            LOG.log(System.Logger.Level.DEBUG, "event feed connected after event " + lastId);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            long gen;
            synchronized (lock) {
                gen = generation;
            }
            LOG.log(System.Logger.Level.INFO, "event feed unavailable: " + e);
            lost(gen, e.toString());
        }
    }

    /** True when the server still holds the event we handled last, unchanged. */
    private boolean resumable(long last) throws IOException, InterruptedException {
        List<Map<String, Object>> page = page(last - 1, 1);
        return !page.isEmpty()
                && String.valueOf(last).equals(page.get(0).get("id"))
                && java.util.Objects.equals(lastType, page.get(0).get("type"));
    }

    private void catchUp(long from) throws IOException, InterruptedException {
        long cursor = from;
        while (true) {
            List<Map<String, Object>> events = page(cursor, PAGE);
            for (Map<String, Object> e : events) {
                dispatch(e);
                cursor = lastId;
            }
            if (events.size() < PAGE) {
                return;
            }
        }
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> page(long after, int limit) throws IOException, InterruptedException {
        HttpRequest r = HttpRequest.newBuilder(base.resolve("/v1/events?after=" + after + "&limit=" + limit))
                .timeout(requestTimeout)
                .header("Accept", "application/json")
                .GET()
                .build();
        HttpResponse<String> res = http.send(r, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (res.statusCode() != 200) {
            throw new IOException("GET /v1/events answered " + res.statusCode());
        }
        Object body = StrictJson.parse(res.body());
        if (!(body instanceof List<?> l)) {
            throw new IOException("GET /v1/events did not answer an array");
        }
        return (List<Map<String, Object>>) l;
    }

    private void open(long after) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve("/v1/events/stream"))
                .header("Accept", "text/event-stream")
                .GET();
        if (after > 0) {
            b.header("Last-Event-ID", Long.toString(after));
        }
        long gen;
        synchronized (lock) {
            gen = ++generation;
        }
        Lines lines = new Lines(gen);
        CompletableFuture<Void> opened = new CompletableFuture<>();
        HttpResponse.BodyHandler<Void> h = info -> {
            if (info.statusCode() != 200) {
                opened.completeExceptionally(new IOException("GET /v1/events/stream answered " + info.statusCode()));
                return HttpResponse.BodySubscribers.replacing(null);
            }
            opened.complete(null);
            return HttpResponse.BodySubscribers.fromLineSubscriber(lines, s -> null, StandardCharsets.UTF_8, null);
        };
        http.sendAsync(b.build(), h).whenComplete((r, e) -> {
            if (e != null) {
                opened.completeExceptionally(e);
                lost(gen, e.toString());
            }
        });
        lastLineNanos = System.nanoTime();
        try {
            opened.get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        }
    }

    private void watchdog() {
        if (closed || !connected) {
            return;
        }
        if (System.nanoTime() - lastLineNanos > idleTimeout.toNanos()) {
            LOG.log(System.Logger.Level.INFO, "event feed silent for " + idleTimeout + ": reconnecting");
            disconnect();
        }
    }

    /** The connection {@code gen} ended: count the feed as lost from now and reconnect after the backoff. */
    private void lost(long gen, String why) {
        Duration wait;
        synchronized (lock) {
            if (closed || gen != generation || reconnectScheduled) {
                return;
            }
            reconnectScheduled = true;
            generation++;
            if (subscription != null) {
                subscription.cancel();
                subscription = null;
            }
            wait = backoff;
            backoff = backoff.multipliedBy(2).compareTo(backoffMax) > 0 ? backoffMax : backoff.multipliedBy(2);
        }
        if (connected || lostSince == null) {
            lostSince = clock.instant();
        }
        connected = false;
        LOG.log(System.Logger.Level.DEBUG, "event feed lost (" + why + "), retrying in " + wait);
        exec.schedule(this::connect, wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void dispatch(Map<String, Object> e) {
        Object idText = e.get("id");
        long id;
        try {
            id = Long.parseLong(String.valueOf(idText));
        } catch (NumberFormatException x) {
            return;
        }
        if (id <= lastId) {
            return; // already handled (a resumed stream may repeat nothing, but be safe)
        }
        String type = e.get("type") instanceof String t ? t : "";
        String issuer = e.get("keyholdissuer") instanceof String s ? s : null;
        if (issuer == null && e.get("source") instanceof String src && src.startsWith("/issuers/")) {
            issuer = src.substring("/issuers/".length());
        }
        String subject = e.get("subject") instanceof String s ? s : null;
        handler.onEvent(new Event(id, type, issuer, subject));
        lastType = type;
        lastId = id;
    }

    /** One stream connection: SSE framing (RFC 8895 / WHATWG): fields until a blank line, comments ignored. */
    private final class Lines implements Flow.Subscriber<String> {
        private final long gen;
        private final StringBuilder data = new StringBuilder();

        Lines(long gen) {
            this.gen = gen;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            synchronized (lock) {
                if (gen != generation || closed) {
                    s.cancel();
                    return;
                }
                subscription = s;
            }
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(String line) {
            lastLineNanos = System.nanoTime();
            if (line.isEmpty()) {
                if (data.length() > 0) {
                    String json = data.toString();
                    data.setLength(0);
                    try {
                        if (StrictJson.parse(json) instanceof Map<?, ?> m) {
                            @SuppressWarnings("unchecked")
                            Map<String, Object> event = (Map<String, Object>) m;
                            // Applied on a thread of its own, in order: applying may reload an issuer over HTTP,
                            // which must not happen on the HTTP client's thread that delivers this stream.
                            applier.execute(() -> {
                                synchronized (lock) {
                                    if (gen != generation) {
                                        return;
                                    }
                                }
                                dispatch(event);
                            });
                        }
                    } catch (IllegalArgumentException bad) {
                        LOG.log(System.Logger.Level.WARNING, "unreadable event on the feed, ignored");
                    }
                }
                return;
            }
            if (line.startsWith(":")) {
                return;
            }
            int colon = line.indexOf(':');
            String field = colon < 0 ? line : line.substring(0, colon);
            String value = colon < 0 ? "" : line.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
            if (field.equals("data")) {
                if (data.length() > 0) {
                    data.append('\n');
                }
                data.append(value);
            }
        }

        @Override
        public void onError(Throwable t) {
            lost(gen, t.toString());
        }

        @Override
        public void onComplete() {
            lost(gen, "stream ended");
        }
    }
}
