package dev.keyhold.verify;

import dev.keyhold.domain.Key;
import dev.keyhold.issuer.Issuer;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.store.KeyEntity;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;

/**
 * Reads the current rows on every call (two indexed lookups): a revocation is effective for the next
 * verification on every instance, with no cache to invalidate.
 */
@ApplicationScoped
public class DatabaseVerificationDirectory implements VerificationDirectory {

    @Override
    public Optional<Issuer> issuerByUri(String uri) {
        return QuarkusTransaction.joiningExisting()
                .call(() -> IssuerEntity.<IssuerEntity>find("issuerUri", uri)
                        .firstResultOptional()
                        .map(IssuerEntity::toIssuer));
    }

    @Override
    public Optional<Key> key(String kid) {
        return QuarkusTransaction.joiningExisting()
                .call(() -> KeyEntity.findByKid(kid).map(KeyEntity::toKey));
    }
}
