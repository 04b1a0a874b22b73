package dev.keyhold.ratelimit;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Token buckets by name, in memory: each refills at {@code ratePerSecond} and holds one second's worth (at least
 * one token). Time is passed in (nanoseconds on any monotonic scale) so tests can step it.
 */
public final class TokenBuckets {

    private static final long NANOS = 1_000_000_000L;

    private final double ratePerSecond;
    private final double capacity;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    /** @param ratePerSecond 0 or less: unlimited */
    public TokenBuckets(double ratePerSecond) {
        this.ratePerSecond = ratePerSecond;
        this.capacity = Math.max(1.0, ratePerSecond);
    }

    boolean unlimited() {
        return ratePerSecond <= 0;
    }

    /** Takes one token: 0 when granted, else the whole seconds to wait before one is available (at least 1). */
    public long tryTake(String name, long nowNanos) {
        if (unlimited()) {
            return 0;
        }
        Bucket b = buckets.computeIfAbsent(name, k -> new Bucket(capacity, nowNanos));
        synchronized (b) {
            long elapsed = nowNanos - b.at;
            if (elapsed > 0) {
                b.tokens = Math.min(capacity, b.tokens + elapsed * ratePerSecond / NANOS);
                b.at = nowNanos;
            }
            if (b.tokens >= 1.0) {
                b.tokens -= 1.0;
                return 0;
            }
            double waitSeconds = (1.0 - b.tokens) / ratePerSecond;
            return Math.max(1L, (long) Math.ceil(waitSeconds));
        }
    }

    private static final class Bucket {
        double tokens;
        long at;

        Bucket(double tokens, long at) {
            this.tokens = tokens;
            this.at = at;
        }
    }
}
