package dev.keyhold.verify;

import dev.keyhold.domain.Key;
import dev.keyhold.issuer.Issuer;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.store.KeyEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.util.List;
import java.util.Optional;

/** Reads an issuer and every key it ever had, for the public key-status document. */
@ApplicationScoped
public class IssuerKeyRows {

    public record Rows(Issuer issuer, List<Key> keys) {}

    @Transactional
    public Optional<Rows> of(String issuerId) {
        IssuerEntity e = IssuerEntity.findById(issuerId);
        return e == null
                ? Optional.empty()
                : Optional.of(new Rows(
                        e.toIssuer(),
                        KeyEntity.ofIssuer(issuerId).stream()
                                .map(KeyEntity::toKey)
                                .toList()));
    }
}
