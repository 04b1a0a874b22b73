package dev.keyhold.ratelimit;

import dev.keyhold.error.ProblemException;

/** A signing rate limit is exhausted; {@code retryAfterSeconds} goes into {@code Retry-After}. */
public class RateLimitedException extends ProblemException {

    private final long retryAfterSeconds;

    public RateLimitedException(String detail, long retryAfterSeconds) {
        super(
                Kind.RATE_LIMITED,
                "rate-limited",
                "Too many requests",
                detail,
                java.util.Map.of("retryAfter", retryAfterSeconds));
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
