package dev.keyhold.signing;

import dev.keyhold.error.ProblemException;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerValidator;
import dev.keyhold.jwks.IssuerCache;
import dev.keyhold.domain.Key;
import dev.keyhold.store.KeyEntity;
import dev.keyhold.domain.KeyState;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;


/**
 * Per-issuer signing snapshots, so the sign path touches no database. {@link dev.keyhold.events.OutboxFollower}
 * drops an issuer's snapshot after a change commits on this instance, and within
 * {@code keyhold.events.poll-interval} of a change made by another instance. A load that raced with an
 * invalidation is used once but not stored. Unknown issuers are not cached, so random ids cannot fill memory.
 */
@ApplicationScoped
public class SigningCache extends IssuerCache<SigningSnapshot> {

    /** The issuer's snapshot if it is in memory, else null (never blocks). */
    SigningSnapshot cached(String issuerId) {
        return peek(issuerId);
    }

    /** The issuer's snapshot; 404 for an unknown issuer. May block on a miss (database). */
    SigningSnapshot get(String issuerId) {
        SigningSnapshot s = peek(issuerId);
        if (s != null) {
            return s;
        }
        if (issuerId == null || !IssuerValidator.SLUG.matcher(issuerId).matches()) {
            throw ProblemException.notFound("issuer", issuerId);
        }
        long generation = generation(issuerId);
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
        store(issuerId, generation, loaded);
        return loaded;
    }
}
