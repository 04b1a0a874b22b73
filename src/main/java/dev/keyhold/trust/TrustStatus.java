package dev.keyhold.trust;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;

/** What the signer last saw, for health: set by every signing attempt on this instance. */
@ApplicationScoped
public class TrustStatus {

    private volatile Instant lastSignedAt;
    private volatile String lastError;
    private volatile Instant lastErrorAt;

    void signed(Instant at) {
        lastSignedAt = at;
        lastError = null;
        lastErrorAt = null;
    }

    void failed(String reason, Instant at) {
        lastError = reason;
        lastErrorAt = at;
    }

    public Instant lastSignedAt() {
        return lastSignedAt;
    }

    public String lastError() {
        return lastError;
    }

    public Instant lastErrorAt() {
        return lastErrorAt;
    }
}
