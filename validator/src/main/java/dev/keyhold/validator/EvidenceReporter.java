package dev.keyhold.validator;

import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jose.util.JSONObjectUtils;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The opt-in {@link TokenReporter} that sends tokens to Keyhold's {@code POST /v1/evidence/reports} (role
 * {@code validator}): every rejected token as its SHA-256, decoded header and reason (never the token itself, unless
 * {@link Builder#rejectedAsTokens(boolean)}), and a sample of the accepted ones as tokens, so Keyhold can tell a token
 * it issued from one made with a stolen key. {@link #report} only samples and queues; a background thread (or
 * {@link #flush()}) sends batches of at most {@code maxBatch}. A full queue drops new items and counts them; a 429
 * keeps the batch and waits for {@code Retry-After}; a 5xx or a network failure keeps it for the next flush; any other
 * answer drops it (counted). The credential is asked for at each send and never logged.
 *
 * <pre>{@code
 * EvidenceReporter reporter = EvidenceReporter.builder(URI.create("https://keyhold.example"),
 *         () -> "Basic " + credentials).acceptedSampleRate(0.01).build();
 * KeyholdValidator v = KeyholdValidator.builder(...).reporter(reporter).build();
 * }</pre>
 */
public final class EvidenceReporter implements TokenReporter, AutoCloseable {

    private static final System.Logger LOG = System.getLogger(EvidenceReporter.class.getName());

    /** What the reporter has done so far. {@code alarms}: forged tokens Keyhold raised an alarm for. */
    public record Stats(long queued, long sent, long dropped, long failedSends, long alarms, int pending) {}

    private final URI endpoint;
    private final Supplier<String> authorization;
    private final HttpClient http;
    private final Clock clock;
    private final double acceptedSampleRate;
    private final boolean rejectedAsTokens;
    private final int maxBatch;
    private final int capacity;
    private final Duration requestTimeout;
    private final Deque<Entry> queue = new ArrayDeque<>();
    private final SplittableRandom random;
    private final ScheduledExecutorService flusher;
    private final AtomicLong queued = new AtomicLong();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong failedSends = new AtomicLong();
    private final AtomicLong alarms = new AtomicLong();
    private Instant notBefore = Instant.MIN;

    private record Entry(boolean accepted, Map<String, Object> item) {}

    public static Builder builder(URI keyhold, Supplier<String> authorization) {
        return new Builder(keyhold, authorization);
    }

    private EvidenceReporter(Builder b) {
        this.endpoint = b.keyhold.resolve("/v1/evidence/reports");
        this.authorization = b.authorization;
        this.http = b.http != null
                ? b.http
                : HttpClient.newBuilder().connectTimeout(b.requestTimeout).build();
        this.clock = b.clock;
        this.acceptedSampleRate = b.acceptedSampleRate;
        this.rejectedAsTokens = b.rejectedAsTokens;
        this.maxBatch = b.maxBatch;
        this.capacity = b.capacity;
        this.requestTimeout = b.requestTimeout;
        this.random = new SplittableRandom(b.seed);
        if (b.flushInterval.isZero()) {
            this.flusher = null;
        } else {
            this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "keyhold-evidence-reporter");
                t.setDaemon(true);
                return t;
            });
            long ms = b.flushInterval.toMillis();
            flusher.scheduleWithFixedDelay(this::flushQuietly, ms, ms, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void report(String token, Verdict verdict) {
        if (token == null || verdict == null) {
            return;
        }
        Map<String, Object> item = new LinkedHashMap<>();
        if (verdict.valid()) {
            if (!sampled()) {
                return;
            }
            item.put("token", token);
        } else {
            if (rejectedAsTokens) {
                item.put("token", token);
            } else {
                item.put("sha256", sha256(token));
                Map<String, Object> header = header(token);
                if (header != null) {
                    item.put("header", header);
                }
                item.put("reason", verdict.reason());
            }
        }
        synchronized (queue) {
            if (queue.size() >= capacity) {
                dropped.incrementAndGet();
                return;
            }
            queue.addLast(new Entry(verdict.valid(), item));
        }
        queued.incrementAndGet();
    }

    private boolean sampled() {
        if (acceptedSampleRate >= 1.0) {
            return true;
        }
        if (acceptedSampleRate <= 0.0) {
            return false;
        }
        synchronized (random) {
            return random.nextDouble() < acceptedSampleRate;
        }
    }

    /**
     * Sends what is queued, one batch after another, unless Keyhold asked to wait (429). Returns how many tokens
     * Keyhold received.
     */
    public int flush() {
        int received = 0;
        while (true) {
            List<Entry> batch = new ArrayList<>();
            synchronized (queue) {
                if (clock.instant().isBefore(notBefore)) {
                    return received;
                }
                while (batch.size() < maxBatch && !queue.isEmpty()) {
                    batch.add(queue.pollFirst());
                }
            }
            if (batch.isEmpty()) {
                return received;
            }
            if (!send(batch)) {
                return received;
            }
            received += batch.size();
        }
    }

    private void flushQuietly() {
        try {
            flush();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "evidence report failed: " + e);
        }
    }

    /** Sends one batch; false when it was put back to be sent later. */
    private boolean send(List<Entry> batch) {
        List<Object> rejected = new ArrayList<>();
        List<Object> accepted = new ArrayList<>();
        for (Entry e : batch) {
            (e.accepted() ? accepted : rejected).add(e.item());
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("rejected", rejected);
        body.put("accepted", accepted);
        HttpRequest request = HttpRequest.newBuilder(endpoint)
                .timeout(requestTimeout)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .header("Authorization", authorization.get())
                .POST(HttpRequest.BodyPublishers.ofString(JSONObjectUtils.toJSONString(body), StandardCharsets.UTF_8))
                .build();
        HttpResponse<String> res;
        try {
            res = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            failedSends.incrementAndGet();
            putBack(batch, Duration.ZERO);
            LOG.log(
                    System.Logger.Level.WARNING,
                    "evidence report not sent, kept for the next flush: " + e.getMessage());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            putBack(batch, Duration.ZERO);
            return false;
        }
        int status = res.statusCode();
        if (status == 200) {
            sent.addAndGet(batch.size());
            alarms.addAndGet(alarmsIn(res.body()));
            return true;
        }
        failedSends.incrementAndGet();
        if (status == 429 || status >= 500) {
            putBack(batch, retryAfter(res));
            LOG.log(System.Logger.Level.WARNING, "evidence report answered " + status + ", kept for later");
            return false;
        }
        dropped.addAndGet(batch.size());
        LOG.log(
                System.Logger.Level.WARNING,
                "evidence report refused with " + status + "; " + batch.size() + " tokens dropped");
        return true;
    }

    private void putBack(List<Entry> batch, Duration wait) {
        synchronized (queue) {
            for (int i = batch.size() - 1; i >= 0; i--) {
                queue.addFirst(batch.get(i));
            }
            while (queue.size() > capacity) {
                queue.pollLast();
                dropped.incrementAndGet();
            }
            if (!wait.isZero()) {
                notBefore = clock.instant().plus(wait);
            }
        }
    }

    private static Duration retryAfter(HttpResponse<String> res) {
        return res.headers()
                .firstValue("Retry-After")
                .map(v -> {
                    try {
                        return Duration.ofSeconds(Math.max(0, Math.min(3600, Long.parseLong(v.trim()))));
                    } catch (NumberFormatException e) {
                        return Duration.ofSeconds(1);
                    }
                })
                .orElse(Duration.ofSeconds(1));
    }

    private static long alarmsIn(String body) {
        try {
            Object n = JSONObjectUtils.parse(body).get("alarms");
            return n instanceof Number num ? num.longValue() : 0;
        } catch (java.text.ParseException | RuntimeException e) {
            return 0;
        }
    }

    static String sha256(String token) {
        try {
            return Base64URL.encode(
                            MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII)))
                    .toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The token's protected header, or null when it is not one. */
    private static Map<String, Object> header(String token) {
        int dot = token.indexOf('.');
        if (dot <= 0 || dot > 8192) {
            return null;
        }
        try {
            return JSONObjectUtils.parse(new Base64URL(token.substring(0, dot)).decodeToString());
        } catch (java.text.ParseException | RuntimeException e) {
            return null;
        }
    }

    public Stats stats() {
        int pending;
        synchronized (queue) {
            pending = queue.size();
        }
        return new Stats(queued.get(), sent.get(), dropped.get(), failedSends.get(), alarms.get(), pending);
    }

    /** Stops the background thread after one last flush. */
    @Override
    public void close() {
        if (flusher != null) {
            flusher.shutdown();
            try {
                flusher.awaitTermination(requestTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        flushQuietly();
    }

    public static final class Builder {
        private final URI keyhold;
        private final Supplier<String> authorization;
        private HttpClient http;
        private Clock clock = Clock.systemUTC();
        private double acceptedSampleRate = 0.01;
        private boolean rejectedAsTokens;
        private int maxBatch = 200;
        private int capacity = 10_000;
        private Duration flushInterval = Duration.ofSeconds(1);
        private Duration requestTimeout = Duration.ofSeconds(10);
        private long seed = System.nanoTime();

        private Builder(URI keyhold, Supplier<String> authorization) {
            this.keyhold = Objects.requireNonNull(keyhold, "keyhold");
            this.authorization = Objects.requireNonNull(authorization, "authorization");
        }

        /** The share of accepted tokens sent, 0 to 1 (default 0.01). Rejected tokens are always sent. */
        public Builder acceptedSampleRate(double rate) {
            if (!(rate >= 0.0 && rate <= 1.0)) {
                throw new IllegalArgumentException("acceptedSampleRate must be from 0 to 1");
            }
            this.acceptedSampleRate = rate;
            return this;
        }

        /** Send rejected tokens whole instead of hash, header and reason (default false). */
        public Builder rejectedAsTokens(boolean on) {
            this.rejectedAsTokens = on;
            return this;
        }

        /** Tokens per report, 1 to 200 (Keyhold's default limit; default 200). */
        public Builder maxBatch(int n) {
            if (n < 1 || n > 200) {
                throw new IllegalArgumentException("maxBatch must be from 1 to 200");
            }
            this.maxBatch = n;
            return this;
        }

        /** Tokens held while Keyhold cannot be reached; beyond it new ones are dropped and counted (default 10,000). */
        public Builder capacity(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("capacity must be positive");
            }
            this.capacity = n;
            return this;
        }

        /** How often the background thread sends; zero: no thread, the caller calls {@link #flush()}. */
        public Builder flushInterval(Duration d) {
            if (d == null || d.isNegative()) {
                throw new IllegalArgumentException("flushInterval must be zero or positive");
            }
            this.flushInterval = d;
            return this;
        }

        public Builder requestTimeout(Duration d) {
            this.requestTimeout = Objects.requireNonNull(d);
            return this;
        }

        public Builder httpClient(HttpClient c) {
            this.http = c;
            return this;
        }

        public Builder clock(Clock c) {
            this.clock = Objects.requireNonNull(c);
            return this;
        }

        /** The sampling's random seed (tests). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public EvidenceReporter build() {
            return new EvidenceReporter(this);
        }
    }
}
