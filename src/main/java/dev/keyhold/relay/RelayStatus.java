package dev.keyhold.relay;

import java.time.Duration;
import java.time.Instant;

/**
 * What a relay last saw, for health and metrics. Lag is the whole cluster's (events not yet relayed by any
 * instance), so every instance reports it, relaying or not.
 */
public final class RelayStatus {

    private volatile long lagEvents;
    private volatile Instant oldestUnrelayed;
    private volatile long position;
    private volatile boolean relaying;
    private volatile String lastError;
    private volatile Instant lastErrorAt;
    private volatile Instant lastSuccessAt;
    private volatile Instant attemptSince;

    void attemptStarted(Instant at) {
        this.attemptSince = at;
    }

    void attemptEnded() {
        this.attemptSince = null;
    }

    /** When the attempt in progress (database transaction and Kafka delivery) began; null between attempts. */
    public Instant attemptSince() {
        return attemptSince;
    }

    /** True before the first attempt finished: neither relaying nor standby is known yet. */
    public boolean starting() {
        return lastSuccessAt == null && lastErrorAt == null;
    }

    void lag(long position, long events, Instant oldest) {
        this.position = position;
        this.lagEvents = events;
        this.oldestUnrelayed = oldest;
    }

    void success(boolean relaying, Instant at) {
        this.relaying = relaying;
        this.lastSuccessAt = at;
    }

    void failure(String error, Instant at) {
        this.relaying = false;
        this.lastError = error;
        this.lastErrorAt = at;
    }

    public long lagEvents() {
        return lagEvents;
    }

    /** Age of the oldest event not yet relayed; zero when there is none. */
    public double lagSeconds(Instant now) {
        Instant o = oldestUnrelayed;
        return o == null ? 0 : Math.max(0, Duration.between(o, now).toMillis() / 1000.0);
    }

    public long position() {
        return position;
    }

    /** Whether this instance held the relay lock on its last attempt. */
    public boolean relaying() {
        return relaying;
    }

    public String lastError() {
        return lastError;
    }

    public Instant lastErrorAt() {
        return lastErrorAt;
    }

    public Instant lastSuccessAt() {
        return lastSuccessAt;
    }

    /** True when the latest attempt failed (no success since the last error). */
    public boolean failing() {
        Instant e = lastErrorAt;
        Instant s = lastSuccessAt;
        return e != null && (s == null || e.isAfter(s));
    }
}
