package dev.keyhold.activation;

import dev.keyhold.command.LifecycleCommands;
import dev.keyhold.domain.ActivationKind;
import dev.keyhold.domain.ActivationState;
import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import dev.keyhold.domain.Transition;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.store.ActivationRequestEntity;
import dev.keyhold.store.KeyEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.persistence.Tuple;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

@ApplicationScoped
public class ActivationService {

    @Inject
    LifecycleCommands commands;

    @Inject
    Clock clock;

    @Inject
    IssuerService issuers;

    @Inject
    EntityManager em;

    @Inject
    HsmPort hsm;

    @Inject
    ApprovalEvidence evidence;

    /** Opens the activation request of a PENDING key. Caller holds the issuer lock. */
    @Transactional(Transactional.TxType.MANDATORY)
    public ActivationRequestEntity openForKey(IssuerEntity issuer, KeyEntity key, String requester, String reason) {
        return commands.openRequest(
                issuer, ActivationKind.KEY_ACTIVATION, key.kid, requester, reason, null, clock.instant());
    }

    /**
     * The live request of a PENDING key; a request left OPEN past its expiry is closed as EXPIRED first, and a
     * fresh one opened when none is live (after a rejection or expiry the same key can be put to custodians again).
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public ActivationRequestEntity liveOrReopen(IssuerEntity issuer, KeyEntity key, String requester, String reason) {
        ActivationRequestEntity live =
                ActivationRequestEntity.liveForKey(key.kid).orElse(null);
        if (live != null && live.toRequest().expiryDue(clock.instant())) {
            expire(issuer, live, "keyhold");
            live = null;
        }
        return live != null ? live : openForKey(issuer, key, requester, reason);
    }

    /** Records an OPEN request past its expiresAt as EXPIRED. Caller holds the issuer lock. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void expire(IssuerEntity issuer, ActivationRequestEntity r, String actor) {
        commands.apply(issuer, r, r.toRequest().expire(clock.instant()), actor);
    }

    /** Closes the live request of a key that was revoked: it can never be carried out. Caller holds the issuer lock. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void cancelForKey(IssuerEntity issuer, String kid, String actor) {
        ActivationRequestEntity.liveForKey(kid)
                .ifPresent(r -> commands.apply(issuer, r, r.toRequest().cancel(clock.instant(), "key revoked"), actor));
    }

    /**
     * Activates the key of an APPROVED request once its activatableAt has passed — never early — and retires
     * the issuer's previous ACTIVE key in the same transaction (SPEC invariants 3 and 4). Returns the kid
     * activated, or empty when nothing was due. Safe to call repeatedly and concurrently: the issuer row lock
     * serialises callers, and a request is executed at most once.
     */
    @Transactional
    public Optional<String> activateIfDue(UUID requestId, String actor) {
        // A scalar read, not an entity load: a request already in the persistence context would be version-checked
        // by the lock below and fail as a stale object when a concurrent caller has just executed it.
        List<Tuple> known = em.createQuery(
                        "select r.issuerId as issuer_id, r.kind as kind from ActivationRequestEntity r where r.id = ?1",
                        Tuple.class)
                .setParameter(1, requestId)
                .getResultList();
        if (known.isEmpty() || known.get(0).get("kind", ActivationKind.class) != ActivationKind.KEY_ACTIVATION) {
            return Optional.empty();
        }
        // Lock order everywhere: issuer row, then request and key rows.
        IssuerEntity issuer = issuers.lock(known.get(0).get("issuer_id", String.class));
        ActivationRequestEntity r = em.find(ActivationRequestEntity.class, requestId, LockModeType.PESSIMISTIC_WRITE);
        if (r.state != ActivationState.APPROVED || issuer.status != IssuerStatus.ACTIVE) {
            return Optional.empty();
        }
        KeyEntity key = KeyEntity.lockByKid(r.kid).orElseThrow();
        Instant now = clock.instant();
        if (key.state != KeyState.PENDING) {
            commands.apply(issuer, r, r.toRequest().cancel(now, "key is " + key.state), actor);
            return Optional.empty();
        }
        if (now.isBefore(key.activatableAt)) {
            return Optional.empty();
        }
        // Invariant 4: the approvals are counted again from their signatures; a request marked APPROVED by a
        // database write is cancelled rather than carried out.
        int approvers = evidence.approvers(
                        r,
                        dev.keyhold.store.ActivationDecisionEntity.list(
                                "id.requestId = ?1 order by decidedAt, id.custodian", r.id))
                .size();
        if (approvers < Math.max(r.approvalsRequired, issuer.approvalsRequired)) {
            commands.apply(
                    issuer,
                    r,
                    r.toRequest()
                            .cancel(
                                    now,
                                    "its approvals do not carry enough valid custodian" + " signatures (" + approvers
                                            + ")"),
                    actor);
            return Optional.empty();
        }
        // A key goes live only if its HSM partition answers and holds it: with the HSM down, activation refuses
        // (HsmUnavailableException, 503) and changes nothing, instead of retiring a working predecessor for a
        // signer that cannot sign.
        hsm.check(key.partition);
        hsm.signingPublicKey(key.partition, key.hsmHandle);
        KeyEntity.inState(issuer.id, KeyState.ACTIVE)
                .ifPresent(previous -> retire(issuer, previous, now, actor, "successor " + key.kid + " activated"));
        // The retirement must reach the database before the activation, or the one-ACTIVE index refuses it.
        em.flush();
        Transition<Key> activated = key.toKey().activate(now, issuer.policy(), r.id.toString());
        commands.apply(issuer, r, r.toRequest().execute(now), actor);
        commands.apply(issuer, key, activated, actor);
        return Optional.of(key.kid);
    }

    /** Activates every approved key of the issuer whose time has come (the scheduler's and lookers' entry). */
    public List<String> activateDue(String issuerId, String actor) {
        List<UUID> approved = approvedKeyRequests(issuerId);
        return approved.stream()
                .map(id -> activateIfDue(id, actor))
                .flatMap(Optional::stream)
                .toList();
    }

    @Transactional
    List<UUID> approvedKeyRequests(String issuerId) {
        return ActivationRequestEntity.<ActivationRequestEntity>list(
                        "issuerId = ?1 and state = ?2 and kind = ?3",
                        issuerId,
                        ActivationState.APPROVED,
                        ActivationKind.KEY_ACTIVATION)
                .stream()
                .map(r -> r.id)
                .toList();
    }

    /** Retires an ACTIVE key: it stops signing now and stays in the JWKS until verifyUntil. Caller holds the issuer lock. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void retire(IssuerEntity issuer, KeyEntity key, Instant now, String actor, String why) {
        commands.apply(issuer, key, key.toKey().retire(now, issuer.policy(), why), actor);
    }
}
