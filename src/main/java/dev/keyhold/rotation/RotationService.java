package dev.keyhold.rotation;

import com.nimbusds.jose.jwk.JWK;
import dev.keyhold.activation.ActivationService;
import dev.keyhold.command.LifecycleCommands;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.error.ProblemException;
import dev.keyhold.hsm.HsmException;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.hsm.PublicJwks;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerGate;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.key.KeyHandles;
import dev.keyhold.key.KeyView;
import dev.keyhold.store.ActivationRequestEntity;
import dev.keyhold.store.KeyEntity;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.security.PublicKey;
import java.time.Clock;
import org.jboss.logging.Logger;

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

    public record Rotation(boolean created, KeyView key) {}

    /**
     * Idempotent: while the issuer has a PENDING key, returns it (and its live activation request) instead of
     * making another.
     *
     * <p>The HSM is never called while a transaction or row lock is held: a network HSM may take seconds to
     * generate a key, and holding the issuer's row lock (and a pooled connection) that long would stall every
     * decision, revoke and suspend of the issuer and let a burst of rotations drain the pool. So: look (no lock) for
     * a pending key; generate outside any transaction; then lock, look again and insert. A caller that lost the race
     * returns the winner's key and destroys its own new HSM object after its transaction ends. The one-PENDING-per-
     * issuer index backs the lock up. An HSM object left behind by a crash between generation and insert has no
     * row; reconciliation destroys it after its grace period.
     */
    @Transactional(Transactional.TxType.NEVER)
    public Rotation rotate(String issuerId, String actor, String reason) {
        for (int attempt = 0; ; attempt++) {
            Target target = QuarkusTransaction.requiringNew().call(() -> target(issuerId));
            if (target.pending()) {
                Locked existing =
                        QuarkusTransaction.requiringNew().call(() -> underLock(issuerId, target, null, actor, reason));
                if (existing.rotation() != null) {
                    return existing.rotation();
                }
                continue; // the pending key went away between the look and the lock: generate one
            }
            String handle = KeyHandles.next(issuerId);
            PublicKey publicKey = hsm.generate(target.partition(), handle, target.algorithm());
            Generated generated = new Generated(handle, publicKey, target);
            Locked outcome;
            try {
                outcome = QuarkusTransaction.requiringNew()
                        .call(() -> underLock(issuerId, target, generated, actor, reason));
            } catch (RuntimeException e) {
                destroyQuietly(target.partition(), handle);
                throw e;
            }
            if (outcome.unused()) {
                // another caller won, or the issuer's partition or algorithm changed meanwhile: this object is not
                // needed
                destroyQuietly(target.partition(), handle);
            }
            if (outcome.rotation() != null) {
                return outcome.rotation();
            }
            if (attempt >= 2) {
                throw ProblemException.conflict(
                        "concurrent-change", "the issuer's key settings changed during the rotation; retry");
            }
        }
    }

    /** What a rotation would generate, read without a lock. */
    private record Target(String partition, SigningAlgorithm algorithm, boolean pending) {}

    private record Generated(String handle, PublicKey publicKey, Target target) {}

    /** {@code unused}: the generated object (if any) was not recorded and must be destroyed. */
    private record Locked(Rotation rotation, boolean unused) {}

    private Target target(String issuerId) {
        IssuerEntity issuer = issuers.entity(issuerId);
        IssuerGate.requireActive(issuer);
        return new Target(
                issuer.partition,
                issuer.algorithm,
                KeyEntity.inState(issuerId, KeyState.PENDING).isPresent());
    }

    /** Under the issuer lock: the pending key if there is one, else the generated key recorded (when it still fits). */
    private Locked underLock(String issuerId, Target target, Generated generated, String actor, String reason) {
        IssuerEntity issuer = issuers.lock(issuerId);
        IssuerGate.requireActive(issuer);
        KeyEntity pending = KeyEntity.inState(issuerId, KeyState.PENDING).orElse(null);
        if (pending != null) {
            ActivationRequestEntity req = activations.liveOrReopen(issuer, pending, actor, reason);
            return new Locked(new Rotation(false, KeyView.of(pending.toKey(), req.id.toString())), generated != null);
        }
        if (generated == null) {
            return new Locked(null, false);
        }
        if (!issuer.partition.equals(target.partition()) || issuer.algorithm != target.algorithm()) {
            return new Locked(null, true);
        }
        JWK jwk = PublicJwks.of(generated.publicKey(), issuer.algorithm);
        KeyEntity k = commands.createKey(
                issuer,
                Key.create(
                        jwk.getKeyID(),
                        issuerId,
                        issuer.algorithm,
                        issuer.partition,
                        generated.handle(),
                        jwk.toJSONString(),
                        clock.instant(),
                        issuer.policy()),
                actor);
        ActivationRequestEntity req = activations.openForKey(issuer, k, actor, reason);
        // Surface constraint failures here, inside the call, so the caller destroys the new HSM object.
        em.flush();
        return new Locked(new Rotation(true, KeyView.of(k.toKey(), req.id.toString())), false);
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
