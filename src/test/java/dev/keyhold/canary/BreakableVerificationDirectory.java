package dev.keyhold.canary;

import dev.keyhold.domain.Key;
import dev.keyhold.issuer.Issuer;
import dev.keyhold.verify.DatabaseVerificationDirectory;
import dev.keyhold.verify.VerificationDirectory;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Inject;
import java.util.Optional;

/**
 * The verifier's directory in tests: the real one, unless a test breaks it on purpose. Broken, it reports every
 * key of one issuer as belonging to another — a key lookup that forgot its issuer scope, the Storm-0558 bug.
 */
@Alternative
@Priority(1)
@ApplicationScoped
public class BreakableVerificationDirectory implements VerificationDirectory {

    @Inject
    DatabaseVerificationDirectory real;

    private volatile String rebindFrom;
    private volatile String rebindTo;

    public void rebind(String fromIssuer, String toIssuer) {
        rebindFrom = fromIssuer;
        rebindTo = toIssuer;
    }

    public void repair() {
        rebindFrom = null;
        rebindTo = null;
    }

    @Override
    public Optional<Issuer> issuerByUri(String uri) {
        return real.issuerByUri(uri);
    }

    @Override
    public Optional<Key> key(String kid) {
        String from = rebindFrom;
        String to = rebindTo;
        return real.key(kid)
                .map(k -> from == null || !k.issuerId().equals(from)
                        ? k
                        : new Key(
                                k.kid(),
                                to,
                                k.algorithm(),
                                k.partition(),
                                k.hsmHandle(),
                                k.publicJwk(),
                                k.state(),
                                k.createdAt(),
                                k.activatableAt(),
                                k.activatedAt(),
                                k.notAfter(),
                                k.retiredAt(),
                                k.verifyUntil(),
                                k.unpublishedAt(),
                                k.destroyAt(),
                                k.destroyedAt(),
                                k.revokedAt(),
                                k.revocationReason(),
                                k.hsmMissingAt()));
    }
}
