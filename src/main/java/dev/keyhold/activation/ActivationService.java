package dev.keyhold.activation;

import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.issuer.IssuerStatus;
import dev.keyhold.key.KeyEntity;
import dev.keyhold.key.KeyState;
import dev.keyhold.rotation.Deadlines;
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
import java.util.UUID;

@ApplicationScoped
public class ActivationService {

    @Inject
    ChangeRecorder recorder;
    @Inject
    Clock clock;
    @Inject
    IssuerService issuers;
    @Inject
    EntityManager em;
    @Inject
    HsmPort hsm;

    /** Opens the activation request of a PENDING key. Caller holds the issuer lock. */
    @Transactional(Transactional.TxType.MANDATORY)
    public ActivationRequestEntity openForKey(IssuerEntity issuer, KeyEntity key, String requester, String reason) {
        Instant now = clock.instant();
        ActivationRequestEntity r = new ActivationRequestEntity();
        r.id = UUID.randomUUID();
        r.kind = ActivationKind.KEY_ACTIVATION;
        r.issuerId = issuer.id;
        r.kid = key.kid;
        r.requester = requester;
        r.reason = reason;
        r.state = ActivationState.OPEN;
        r.approvalsRequired = issuer.approvalsRequired;
        r.createdAt = now;
        r.expiresAt = now.plusSeconds(issuer.approvalTtlSeconds);
        r.persist();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("requestId", r.id.toString());
        details.put("kind", r.kind.name());
        details.put("approvalsRequired", r.approvalsRequired);
        details.put("expiresAt", r.expiresAt.toString());
        recorder.record(Change.announced("activation.requested", requester, issuer.id, key.kid, details));
        return r;
    }

    /**
     * The live request of a PENDING key; a request left OPEN past its expiry is closed as EXPIRED first, and a
     * fresh one opened when none is live (after a rejection or expiry the same key can be put to custodians again).
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public ActivationRequestEntity liveOrReopen(IssuerEntity issuer, KeyEntity key, String requester, String reason) {
        ActivationRequestEntity live = ActivationRequestEntity.liveForKey(key.kid).orElse(null);
        if (live != null && live.state == ActivationState.OPEN && !clock.instant().isBefore(live.expiresAt)) {
            expire(live, "keyhold");
            live = null;
        }
        return live != null ? live : openForKey(issuer, key, requester, reason);
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public void expire(ActivationRequestEntity r, String actor) {
        r.state = ActivationState.EXPIRED;
        r.decidedAt = clock.instant();
        recorder.record(Change.announced("activation.expired", actor, r.issuerId, r.kid,
                Map.of("requestId", r.id.toString())));
    }

    /** Closes the live request of a key that was revoked: it can never be carried out. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void cancelForKey(String kid, String actor) {
        ActivationRequestEntity.liveForKey(kid).ifPresent(r -> {
            r.state = ActivationState.CANCELLED;
            r.decidedAt = clock.instant();
            recorder.record(Change.auditOnly("activation.cancelled", actor, Change.SUCCESS, r.issuerId, r.kid,
                    Map.of("requestId", r.id.toString(), "why", "key revoked")));
        });
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
        List<Object[]> known = em.createQuery("select r.issuerId, r.kind from ActivationRequestEntity r where r.id = ?1",
                Object[].class).setParameter(1, requestId).getResultList();
        if (known.isEmpty() || known.get(0)[1] != ActivationKind.KEY_ACTIVATION) {
            return Optional.empty();
        }
        // Lock order everywhere: issuer row, then request and key rows.
        IssuerEntity issuer = issuers.lock((String) known.get(0)[0]);
        ActivationRequestEntity r = em.find(ActivationRequestEntity.class, requestId, LockModeType.PESSIMISTIC_WRITE);
        if (r.state != ActivationState.APPROVED || issuer.status != IssuerStatus.ACTIVE) {
            return Optional.empty();
        }
        KeyEntity key = KeyEntity.lockByKid(r.kid).orElseThrow();
        Instant now = clock.instant();
        if (key.state != KeyState.PENDING) {
            r.state = ActivationState.CANCELLED;
            r.decidedAt = now;
            recorder.record(Change.auditOnly("activation.cancelled", actor, Change.SUCCESS, r.issuerId, r.kid,
                    Map.of("requestId", r.id.toString(), "why", "key is " + key.state)));
            return Optional.empty();
        }
        if (now.isBefore(key.activatableAt)) {
            return Optional.empty();
        }
        // A key goes live only if its HSM partition answers and holds it: with the HSM down, activation refuses
        // (HsmUnavailableException, 503) and changes nothing, instead of retiring a working predecessor for a
        // signer that cannot sign (issue 15).
        hsm.check(key.partition);
        hsm.publicKey(key.partition, key.hsmHandle);
        KeyEntity.inState(issuer.id, KeyState.ACTIVE).ifPresent(previous -> retire(issuer, previous, now, actor,
                "successor " + key.kid + " activated"));
        // The retirement must reach the database before the activation, or the one-ACTIVE index refuses it.
        em.flush();
        key.state.requireMoveTo(KeyState.ACTIVE);
        key.state = KeyState.ACTIVE;
        key.activatedAt = now;
        key.notAfter = Deadlines.notAfter(now, issuer.policy());
        r.state = ActivationState.EXECUTED;
        r.executedAt = now;
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("requestId", r.id.toString());
        details.put("notAfter", key.notAfter.toString());
        details.put("rotationDue", Deadlines.rotationDue(now, issuer.policy()).toString());
        recorder.record(Change.announced("key.activated", actor, issuer.id, key.kid, details));
        return Optional.of(key.kid);
    }

    /** Activates every approved key of the issuer whose time has come (the scheduler's and lookers' entry). */
    public List<String> activateDue(String issuerId, String actor) {
        List<UUID> approved = approvedKeyRequests(issuerId);
        return approved.stream().map(id -> activateIfDue(id, actor)).flatMap(Optional::stream).toList();
    }

    @Transactional
    List<UUID> approvedKeyRequests(String issuerId) {
        return ActivationRequestEntity.<ActivationRequestEntity>list("issuerId = ?1 and state = ?2 and kind = ?3",
                issuerId, ActivationState.APPROVED, ActivationKind.KEY_ACTIVATION).stream().map(r -> r.id).toList();
    }

    /** Retires an ACTIVE key: it stops signing now and stays in the JWKS until verifyUntil. Caller holds the issuer lock. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void retire(IssuerEntity issuer, KeyEntity key, Instant now, String actor, String why) {
        key.state.requireMoveTo(KeyState.RETIRED);
        key.state = KeyState.RETIRED;
        key.retiredAt = now;
        key.verifyUntil = Deadlines.verifyUntil(now, issuer.policy());
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("why", why);
        details.put("verifyUntil", key.verifyUntil.toString());
        recorder.record(Change.announced("key.retired", actor, issuer.id, key.kid, details));
    }
}
