package dev.keyhold.jwks;

import dev.keyhold.audit.RecordedChange;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.key.KeyEntity;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import jakarta.inject.Inject;

import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Each issuer's JWKS, built once per change rather than per request. A change recorded on this instance
 * invalidates its issuer after commit; {@link OutboxFollower} does the same for changes made by other
 * instances. Reads are lock-free; a build that raced with an invalidation is not stored.
 */
@ApplicationScoped
public class JwksCache {

    private final ConcurrentHashMap<String, JwksDocument> documents = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicLong> generations = new ConcurrentHashMap<>();

    @Inject
    Clock clock;

    /** The cached document if fresh; empty means "build it" (off the event loop). */
    public Optional<JwksDocument> cached(String issuerId) {
        JwksDocument d = documents.get(issuerId);
        if (d == null) {
            return Optional.empty();
        }
        var now = clock.instant();
        if (d.freshAt(now)) {
            return Optional.of(d);
        }
        // A key's window closed: re-render from what is cached, no database needed.
        JwksDocument next = d.at(now);
        documents.replace(issuerId, d, next);
        return Optional.of(next);
    }

    /** Loads from the database; empty for an unknown issuer. Blocking. */
    public Optional<JwksDocument> load(String issuerId) {
        long generation = generation(issuerId).get();
        Optional<JwksDocument> built = QuarkusTransaction.joiningExisting().call(() -> {
            IssuerEntity issuer = IssuerEntity.findById(issuerId);
            if (issuer == null) {
                return Optional.<JwksDocument>empty();
            }
            var keys = KeyEntity.ofIssuer(issuerId).stream().map(KeyEntity::toKey).toList();
            return Optional.of(JwksDocument.of(issuerId, keys, issuer.policy(), clock.instant()));
        });
        built.ifPresent(d -> {
            if (generation(issuerId).get() == generation) {
                documents.put(issuerId, d);
            }
        });
        return built;
    }

    public void invalidate(String issuerId) {
        if (issuerId == null) {
            return;
        }
        generation(issuerId).incrementAndGet();
        documents.remove(issuerId);
    }

    public void invalidateAll() {
        generations.values().forEach(AtomicLong::incrementAndGet);
        documents.clear();
    }

    void onCommitted(@Observes(during = TransactionPhase.AFTER_SUCCESS) RecordedChange change) {
        invalidate(change.issuerId());
    }

    private AtomicLong generation(String issuerId) {
        return generations.computeIfAbsent(issuerId, k -> new AtomicLong());
    }
}
