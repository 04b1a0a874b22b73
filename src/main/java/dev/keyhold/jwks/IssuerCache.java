package dev.keyhold.jwks;

import dev.keyhold.events.IssuerChangeListener;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A per-issuer in-memory cache that {@link dev.keyhold.events.OutboxFollower} keeps in step with changes, local and from other
 * instances. Reads are lock-free. A value loaded while an invalidation happened is not stored: callers take the
 * generation before loading and store with it, so a load that read old rows cannot overwrite the invalidation.
 */
public abstract class IssuerCache<V> implements IssuerChangeListener {

    private final ConcurrentHashMap<String, V> values = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicLong> generations = new ConcurrentHashMap<>();

    protected V peek(String issuerId) {
        return values.get(issuerId);
    }

    /** Take before loading from the database; hand to {@link #store}. */
    protected long generation(String issuerId) {
        return counter(issuerId).get();
    }

    /** Stores {@code value} unless the issuer was invalidated since {@code generation} was taken. */
    protected void store(String issuerId, long generation, V value) {
        if (counter(issuerId).get() == generation) {
            values.put(issuerId, value);
        }
    }

    /** Swaps a value for a newer rendering of the same data, if no invalidation removed it meanwhile. */
    protected void replace(String issuerId, V old, V fresh) {
        values.replace(issuerId, old, fresh);
    }

    /** Whether a value is held now (tests of the no-database paths ask). */
    public boolean holds(String issuerId) {
        return values.containsKey(issuerId);
    }

    /** The issuers whose values are held now (a copy). */
    protected List<String> heldIssuers() {
        return List.copyOf(values.keySet());
    }

    /** How many issuers' values are held now (readiness: what could be served without the database). */
    public int size() {
        return values.size();
    }

    @Override
    public void invalidate(String issuerId) {
        if (issuerId == null) {
            return;
        }
        counter(issuerId).incrementAndGet();
        values.remove(issuerId);
    }

    @Override
    public void invalidateAll() {
        generations.values().forEach(AtomicLong::incrementAndGet);
        values.clear();
    }

    private AtomicLong counter(String issuerId) {
        return generations.computeIfAbsent(issuerId, k -> new AtomicLong());
    }
}
