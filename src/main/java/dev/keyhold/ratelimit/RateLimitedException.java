package dev.keyhold.ratelimit;

import dev.keyhold.error.ProblemException;

/** 429: a signing rate limit is exhausted; {@code retryAfterSeconds} goes into {@code Retry-After}. */
public class RateLimitedException extends ProblemException {

    private final long retryAfterSeconds;

    public RateLimitedException(String detail, long retryAfterSeconds) {
        super(429, "rate-limited", "Too many requests", detail, java.util.Map.of("retryAfter", retryAfterSeconds));
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
