package dev.keyhold.lifecycle;

import dev.keyhold.activation.ActivationService;
import dev.keyhold.command.LifecycleCommands;
import dev.keyhold.domain.Deadlines;
import dev.keyhold.domain.KeyState;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.rotation.RotationService;
import dev.keyhold.store.ActivationRequestEntity;
import dev.keyhold.store.KeyEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

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
    LifecycleCommands commands;

    @Inject
    EntityManager em;

    @Inject
    Clock clock;

    @Inject
    NextDue nextDue;

    /**
     * Decides and takes the due step. Preparing the next key is the one step taken after the transaction: it calls
     * the HSM, which must not happen under the issuer lock (RotationService re-checks under its own lock).
     */
    @Transactional(Transactional.TxType.NOT_SUPPORTED)
    public Optional<DueStep> takeOne(String issuerId) {
        Optional<DueStep> step = decideAndTake(issuerId);
        if (step.isPresent() && step.get().kind() == StepKind.PREPARE) {
            rotations.rotate(issuerId, ACTOR, "scheduled rotation");
        }
        return step;
    }

    @Transactional(Transactional.TxType.REQUIRES_NEW)
    Optional<DueStep> decideAndTake(String issuerId) {
        IssuerEntity issuer = issuers.lock(issuerId);
        Instant now = clock.instant();
        NextDue.PlannerInput in = nextDue.input(issuerId);
        Optional<DueStep> step =
                DueStep.next(issuer.status, issuer.policy(), in.keys(), in.live(), in.overdueNotified(), now);
        step.ifPresent(s -> execute(issuer, s, now));
        // Every recorded change stored it already; this covers a sweep that found nothing to do.
        nextDue.store(issuerId);
        return step;
    }

    private void execute(IssuerEntity issuer, DueStep step, Instant now) {
        switch (step.kind()) {
            case EXPIRE_REQUEST ->
                activations.expire(
                        issuer,
                        em.find(ActivationRequestEntity.class, step.requestId(), LockModeType.PESSIMISTIC_WRITE),
                        ACTOR);
            case ACTIVATE -> activations.activateIfDue(step.requestId(), ACTOR);
            case RETIRE_AT_DEADLINE -> {
                KeyEntity k = KeyEntity.lockByKid(step.kid()).orElseThrow();
                // Retired as of notAfter, the instant it stopped signing, not the (possibly late) sweep: its tokens
                // expire by notAfter + tokenTtl, which is also when the JWKS dropped it at use time.
                activations.retire(
                        issuer,
                        k,
                        k.notAfter,
                        ACTOR,
                        "notAfter reached"
                                + (KeyEntity.inState(issuer.id, KeyState.PENDING)
                                                .isPresent()
                                        ? " before its successor was approved"
                                        : " with no successor"));
            }
            case PREPARE -> {
                // taken by takeOne after this transaction
            }
            case ANNOUNCE_OVERDUE -> {
                KeyEntity k = KeyEntity.lockByKid(step.kid()).orElseThrow();
                Map<String, Object> details = new LinkedHashMap<>();
                details.put(
                        "rotationDue",
                        Deadlines.rotationDue(k.activatedAt, issuer.policy()).toString());
                details.put("notAfter", k.notAfter.toString());
                details.put(
                        "awaitingApproval",
                        KeyEntity.inState(issuer.id, KeyState.PENDING)
                                .map(p -> p.kid)
                                .orElse(null));
                commands.announceOverdue(issuer, k, now, ACTOR, details);
            }
            case UNPUBLISH -> {
                KeyEntity k = KeyEntity.lockByKid(step.kid()).orElseThrow();
                commands.apply(issuer, k, k.toKey().unpublish(now, issuer.policy()), ACTOR);
            }
            case DESTROY -> destroy(issuer, KeyEntity.lockByKid(step.kid()).orElseThrow(), now);
        }
    }

    /**
     * The row first, the HSM after the commit ({@code command/HsmAfterCommit}): no HSM call runs inside this
     * transaction or under the issuer lock. The private key object is gone already (since retirement or revocation,
     * invariant 9); what remains (the public object) is removed after the commit, and a crash in between leaves a
     * DESTROYED row whose remains the reconciler removes.
     */
    private void destroy(IssuerEntity issuer, KeyEntity k, Instant now) {
        commands.apply(issuer, k, k.toKey().destroy(now, "removed-after-commit"), ACTOR);
    }
}
