package dev.keyhold.relay;

import java.time.Duration;

/** Exponential backoff, capped: initial, 2×, 4×, … up to max; back to initial after a success. Not thread-safe. */
final class Backoff {

    private final Duration initial;
    private final Duration max;
    private Duration next;

    Backoff(Duration initial, Duration max) {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < initial <= max, got " + initial + " and " + max);
        }
        this.initial = initial;
        this.max = max;
        this.next = initial;
    }

    /** The wait before the next attempt; each call doubles the one after it, up to max. */
    Duration next() {
        Duration d = next;
        next = d.compareTo(max.dividedBy(2)) > 0 ? max : d.multipliedBy(2);
        return d;
    }

    void reset() {
        next = initial;
    }
}
