package dev.keyhold.jwks;

import dev.keyhold.events.IssuerChangeListener;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Counts the invalidations the follower hands out, per issuer (a listener like the real caches). */
@ApplicationScoped
public class CountingListener implements IssuerChangeListener {

    private final ConcurrentHashMap<String, AtomicInteger> counts = new ConcurrentHashMap<>();

    @Override
    public void invalidate(String issuerId) {
        counts.computeIfAbsent(issuerId, k -> new AtomicInteger()).incrementAndGet();
    }

    @Override
    public void invalidateAll() {}

    int count(String issuerId) {
        AtomicInteger n = counts.get(issuerId);
        return n == null ? 0 : n.get();
    }

    void reset(String issuerId) {
        counts.remove(issuerId);
    }
}
