package dev.keyhold.lifecycle;

import dev.keyhold.activation.ActivationRequestEntity;
import dev.keyhold.activation.ActivationService;
import dev.keyhold.domain.ActivationState;
import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.hsm.HsmObjectMissingException;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.domain.Key;
import dev.keyhold.store.KeyEntity;
import dev.keyhold.domain.KeyState;
import dev.keyhold.domain.Deadlines;
import dev.keyhold.rotation.RotationService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Takes the one due step of one issuer, in its own transaction, under the issuer row lock. The step is decided
 * again under the lock from the rows as they are now, so a step taken concurrently (another sweeper, a custodian,
 * a cron rotation) is never taken twice: sweeps are safe to repeat after a crash or in parallel.
 */
@ApplicationScoped
public class LifecycleSteps {

    /** The actor of every change the sweeper makes, in audit records and events. */
    public static final String ACTOR = "keyhold-scheduler";

    @Inject
    IssuerService issuers;
    @Inject
    ActivationService activations;
    @Inject
    RotationService rotations;
    @Inject
    ChangeRecorder recorder;
    @Inject
    HsmPort hsm;
    @Inject
    EntityManager em;
    @Inject
    Clock clock;

    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public Optional<DueStep> takeOne(String issuerId) {
        IssuerEntity issuer = issuers.lock(issuerId);
        Instant now = clock.instant();
        List<KeyEntity> rows = KeyEntity.ofIssuer(issuerId);
        List<Key> keys = rows.stream().map(KeyEntity::toKey).toList();
        Set<String> notified = rows.stream().filter(k -> k.overdueNotifiedAt != null).map(k -> k.kid)
                .collect(Collectors.toSet());
        List<DueStep.LiveRequest> live = ActivationRequestEntity.<ActivationRequestEntity>list(
                        "issuerId = ?1 and state in ?2 order by createdAt", issuerId,
                        List.of(ActivationState.OPEN, ActivationState.APPROVED)).stream()
                .map(r -> new DueStep.LiveRequest(r.id, r.kind, r.state, r.kid, r.expiresAt)).toList();
        Optional<DueStep> step = DueStep.next(issuer.status, issuer.policy(), keys, live, notified, now);
        step.ifPresent(s -> execute(issuer, s, now));
        return step;
    }

    private void execute(IssuerEntity issuer, DueStep step, Instant now) {
        switch (step.kind()) {
            case EXPIRE_REQUEST -> activations.expire(
                    em.find(ActivationRequestEntity.class, step.requestId(), LockModeType.PESSIMISTIC_WRITE), ACTOR);
            case ACTIVATE -> activations.activateIfDue(step.requestId(), ACTOR);
            case RETIRE_AT_DEADLINE -> {
                KeyEntity k = KeyEntity.lockByKid(step.kid()).orElseThrow();
                // Retired as of notAfter, the instant it stopped signing, not the (possibly late) sweep: its tokens
                // expire by notAfter + tokenTtl, which is also when the JWKS dropped it at use time.
                activations.retire(issuer, k, k.notAfter, ACTOR, "notAfter reached"
                        + (KeyEntity.inState(issuer.id, KeyState.PENDING).isPresent()
                        ? " before its successor was approved" : " with no successor"));
            }
            case PREPARE -> rotations.rotate(issuer.id, ACTOR, "scheduled rotation");
            case ANNOUNCE_OVERDUE -> {
                KeyEntity k = KeyEntity.lockByKid(step.kid()).orElseThrow();
                k.overdueNotifiedAt = now;
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("rotationDue", Deadlines.rotationDue(k.activatedAt, issuer.policy()).toString());
                details.put("notAfter", k.notAfter.toString());
                details.put("awaitingApproval", KeyEntity.inState(issuer.id, KeyState.PENDING).map(p -> p.kid).orElse(null));
                recorder.record(Change.announced("rotation.overdue", ACTOR, issuer.id, k.kid, details));
            }
            case UNPUBLISH -> {
                KeyEntity k = KeyEntity.lockByKid(step.kid()).orElseThrow();
                k.unpublishedAt = now;
                // destroyGrace counts from verifyUntil, when the key left the JWKS, not from a late sweep.
                k.destroyAt = Deadlines.destroyAt(k.verifyUntil, issuer.policy());
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("verifyUntil", k.verifyUntil.toString());
                details.put("destroyAt", k.destroyAt.toString());
                recorder.record(Change.announced("key.unpublished", ACTOR, issuer.id, k.kid, details));
            }
            case DESTROY -> destroy(issuer, KeyEntity.lockByKid(step.kid()).orElseThrow(), now);
        }
    }

    /**
     * HSM first, then the row: a crash in between leaves a RETIRED/REVOKED row whose object is gone, which
     * reconciliation reports and this step completes next time (a missing object counts as destroyed). The other
     * order could leave a DESTROYED row with a live private key in the HSM.
     */
    private void destroy(IssuerEntity issuer, KeyEntity k, Instant now) {
        k.state.requireMoveTo(KeyState.DESTROYED); // before the HSM call: an illegal move destroys nothing
        String object;
        try {
            hsm.destroy(k.partition, k.hsmHandle);
            object = "destroyed";
        } catch (HsmObjectMissingException e) {
            object = "already-missing";
        }
        activations.record(k, k.toKey().destroy(now, object), ACTOR);
    }
}
