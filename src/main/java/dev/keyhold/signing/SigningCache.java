package dev.keyhold.signing;

import dev.keyhold.audit.RecordedChange;
import dev.keyhold.error.ProblemException;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerValidator;
import dev.keyhold.jwks.IssuerChangeListener;
import dev.keyhold.key.Key;
import dev.keyhold.key.KeyEntity;
import dev.keyhold.key.KeyState;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Per-issuer signing snapshots, so the sign path touches no database. A change recorded on this instance
 * invalidates its issuer after commit; {@link dev.keyhold.jwks.OutboxFollower} does the same for changes made
 * by other instances (within {@code keyhold.jwks.refresh-interval}). A load that raced with an invalidation is
 * used once but not stored. Unknown issuers are not cached, so random ids cannot fill memory.
 */
@ApplicationScoped
public class SigningCache implements IssuerChangeListener {

    private final ConcurrentHashMap<String, SigningSnapshot> snapshots = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicLong> generations = new ConcurrentHashMap<>();

    /** The issuer's snapshot; 404 for an unknown issuer. May block on a miss (database). */
    SigningSnapshot get(String issuerId) {
        SigningSnapshot s = snapshots.get(issuerId);
        if (s != null) {
            return s;
        }
        if (issuerId == null || !IssuerValidator.SLUG.matcher(issuerId).matches()) {
            throw ProblemException.notFound("issuer", issuerId);
        }
        long generation = generation(issuerId).get();
        SigningSnapshot loaded = QuarkusTransaction.joiningExisting().call(() -> {
            IssuerEntity issuer = IssuerEntity.findById(issuerId);
            if (issuer == null) {
                return null;
            }
            Key active = KeyEntity.inState(issuerId, KeyState.ACTIVE).map(KeyEntity::toKey).orElse(null);
            return SigningSnapshot.of(issuer.toIssuer(), active);
        });
        if (loaded == null) {
            throw ProblemException.notFound("issuer", issuerId);
        }
        if (generation(issuerId).get() == generation) {
            snapshots.put(issuerId, loaded);
        }
        return loaded;
    }

    /** Whether the issuer's snapshot is held now; for tests of the no-database sign path. */
    boolean holds(String issuerId) {
        return snapshots.containsKey(issuerId);
    }

    @Override
    public void invalidate(String issuerId) {
        if (issuerId == null) {
            return;
        }
        generation(issuerId).incrementAndGet();
        snapshots.remove(issuerId);
    }

    @Override
    public void invalidateAll() {
        generations.values().forEach(AtomicLong::incrementAndGet);
        snapshots.clear();
    }

    void onCommitted(@Observes(during = TransactionPhase.AFTER_SUCCESS) RecordedChange change) {
        invalidate(change.issuerId());
    }

    private AtomicLong generation(String issuerId) {
        return generations.computeIfAbsent(issuerId, k -> new AtomicLong());
    }
}
