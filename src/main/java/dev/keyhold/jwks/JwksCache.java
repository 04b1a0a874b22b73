package dev.keyhold.jwks;

import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.store.KeyEntity;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.util.Optional;

/**
 * Each issuer's JWKS, built once per change rather than per request, and dropped when the issuer changes (see
 * {@link IssuerCache}). A retired key's window closing needs no database: the cached document re-renders itself.
 */
@ApplicationScoped
public class JwksCache extends IssuerCache<JwksDocument> {

    @Inject
    Clock clock;

    /** The cached document if fresh; empty means "build it" (off the event loop). */
    public Optional<JwksDocument> cached(String issuerId) {
        JwksDocument d = peek(issuerId);
        if (d == null) {
            return Optional.empty();
        }
        var now = clock.instant();
        if (d.freshAt(now)) {
            return Optional.of(d);
        }
        // A key's window closed: re-render from what is cached, no database needed.
        JwksDocument next = d.at(now);
        replace(issuerId, d, next);
        return Optional.of(next);
    }

    /** Loads from the database; empty for an unknown issuer. Blocking. */
    public Optional<JwksDocument> load(String issuerId) {
        long generation = generation(issuerId);
        Optional<JwksDocument> built = QuarkusTransaction.joiningExisting().call(() -> {
            IssuerEntity issuer = IssuerEntity.findById(issuerId);
            if (issuer == null) {
                return Optional.<JwksDocument>empty();
            }
            var keys =
                    KeyEntity.ofIssuer(issuerId).stream().map(KeyEntity::toKey).toList();
            return Optional.of(JwksDocument.of(issuerId, keys, issuer.policy(), clock.instant()));
        });
        built.ifPresent(d -> store(issuerId, generation, d));
        return built;
    }
}
