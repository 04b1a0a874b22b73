package dev.keyhold.rotation;

import com.nimbusds.jose.jwk.JWK;
import dev.keyhold.store.ActivationRequestEntity;
import dev.keyhold.activation.ActivationService;
import dev.keyhold.command.LifecycleCommands;
import dev.keyhold.domain.Key;
import dev.keyhold.hsm.HsmException;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.issuer.IssuerGate;
import dev.keyhold.store.KeyEntity;
import dev.keyhold.key.KeyHandles;
import dev.keyhold.domain.KeyState;
import dev.keyhold.key.KeyView;
import dev.keyhold.hsm.PublicJwks;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import org.jboss.logging.Logger;

import java.security.PublicKey;
import java.time.Clock;

/** Prepares an issuer's next key: generated in the HSM, published at once, activatable after publishLead. */
@ApplicationScoped
public class RotationService {

    private static final Logger LOG = Logger.getLogger(RotationService.class);

    @Inject
    IssuerService issuers;
    @Inject
    ActivationService activations;
    @Inject
    LifecycleCommands commands;
    @Inject
    HsmPort hsm;
    @Inject
    EntityManager em;
    @Inject
    Clock clock;

    public record Rotation(boolean created, KeyView key) {
    }

    /**
     * Idempotent: while the issuer has a PENDING key, returns it (and its live activation request) instead of
     * making another. The issuer row lock serialises concurrent callers; the database's one-PENDING-per-issuer
     * index backs that up.
     */
    @Transactional
    public Rotation rotate(String issuerId, String actor, String reason) {
        IssuerEntity issuer = issuers.lock(issuerId);
        IssuerGate.requireActive(issuer);
        KeyEntity pending = KeyEntity.inState(issuerId, KeyState.PENDING).orElse(null);
        if (pending != null) {
            ActivationRequestEntity req = activations.liveOrReopen(issuer, pending, actor, reason);
            return new Rotation(false, KeyView.of(pending.toKey(), req.id.toString()));
        }
        String handle = KeyHandles.next(issuerId);
        PublicKey publicKey = hsm.generate(issuer.partition, handle, issuer.algorithm);
        try {
            JWK jwk = PublicJwks.of(publicKey, issuer.algorithm);
            KeyEntity k = commands.createKey(issuer, Key.create(jwk.getKeyID(), issuerId, issuer.algorithm,
                    issuer.partition, handle, jwk.toJSONString(), clock.instant(), issuer.policy()), actor);
            ActivationRequestEntity req = activations.openForKey(issuer, k, actor, reason);
            // Surface constraint failures here, while the new HSM object can still be cleaned up.
            em.flush();
            return new Rotation(true, KeyView.of(k.toKey(), req.id.toString()));
        } catch (RuntimeException e) {
            destroyQuietly(issuer.partition, handle);
            throw e;
        }
    }

    private void destroyQuietly(String partition, String handle) {
        try {
            hsm.destroy(partition, handle);
        } catch (HsmException e) {
            // Reconciliation finds and destroys HSM objects that have no row.
            LOG.warnf("could not remove HSM object %s after a failed rotation: %s", handle, e.getMessage());
        }
    }
}
