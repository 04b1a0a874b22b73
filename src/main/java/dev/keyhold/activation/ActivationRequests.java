package dev.keyhold.activation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.command.LifecycleCommands;
import dev.keyhold.domain.ActivationKind;
import dev.keyhold.domain.ActivationState;
import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.error.ProblemException;
import dev.keyhold.error.ValidationException;
import dev.keyhold.issuer.Issuer;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerRequest;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.issuer.IssuerValidator;
import dev.keyhold.security.Roles;
import dev.keyhold.store.ActivationDecisionEntity;
import dev.keyhold.store.ActivationRequestEntity;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.persistence.Tuple;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The transactional side of dual control: decisions, expiry, and carrying out approved resume and policy-change
 * requests. Every change locks the issuer row first, then the request row (the project's lock order), so
 * decisions, activations, revocations and rotations of one issuer are serialised.
 */
@ApplicationScoped
public class ActivationRequests {

    /** The system actor for changes nobody asked for directly (expiry noticed by a reader). */
    public static final String SYSTEM = "keyhold";

    @Inject
    ChangeRecorder recorder;

    @Inject
    Clock clock;

    @Inject
    IssuerService issuers;

    @Inject
    IssuerValidator validator;

    @Inject
    ActivationService activations;

    @Inject
    LifecycleCommands commands;

    @Inject
    EntityManager em;

    @Inject
    ObjectMapper json;

    @Inject
    Instance<ApprovedRequestExecutor> executors;

    @Inject
    ApprovalEvidence evidence;

    @Inject
    dev.keyhold.policy.PolicyChain chain;

    public enum Outcome {
        RECORDED,
        APPROVED,
        REJECTED,
        EXECUTED,
        EXPIRED,
        CANCELLED
    }

    public record Decided(Outcome outcome, ActivationKind kind, String issuerId, ActivationView view) {}

    /** What a reader needs to know before deciding whether to expire or activate: no entity, no lock. */
    public record Glance(UUID id, ActivationKind kind, String issuerId, ActivationState state, Instant expiresAt) {}

    @Transactional
    public Optional<Glance> glance(UUID id) {
        return em.createQuery(
                        "select r.kind as kind, r.issuerId as issuer_id, r.state as state, r.expiresAt as expires_at"
                                + " from ActivationRequestEntity r where r.id = ?1",
                        Tuple.class)
                .setParameter(1, id)
                .getResultStream()
                .findFirst()
                .map(t -> new Glance(
                        id,
                        t.get("kind", ActivationKind.class),
                        t.get("issuer_id", String.class),
                        t.get("state", ActivationState.class),
                        t.get("expires_at", Instant.class)));
    }

    /**
     * Records one custodian's decision. Refusals: 403 ({@link Denied}, audited by the caller) for anyone the
     * issuer does not name as custodian and for the requester; 409 for a second decision or a request that is
     * not OPEN. A request found past its expiry is closed as EXPIRED (committed, outcome EXPIRED) instead.
     */
    @Transactional
    public Decided decide(UUID id, boolean approve, String comment, SecurityIdentity who) {
        return decide(id, approve, comment, null, who);
    }

    /**
     * The same with the approval's signature over the request's statement: an approval without a valid one is
     * refused with 422 and nothing is recorded. Approvals count by their signatures, never by their rows.
     */
    @Transactional
    public Decided decide(
            UUID id, boolean approve, String comment, Map<String, Object> signature, SecurityIdentity who) {
        Glance g = glance(id).orElseThrow(() -> ProblemException.notFound("activation request", id.toString()));
        IssuerEntity issuer = issuers.lock(g.issuerId());
        ActivationRequestEntity r = em.find(ActivationRequestEntity.class, id, LockModeType.PESSIMISTIC_WRITE);
        String actor = who.getPrincipal().getName();
        Issuer current = issuer.toIssuer();
        Map<String, Object> attempt = new LinkedHashMap<>();
        attempt.put("requestId", id.toString());
        attempt.put("kind", r.kind.name());
        attempt.put("decision", approve ? "approve" : "reject");
        if (!who.hasRole(Roles.CUSTODIAN) || !current.isCustodian(actor)) {
            throw new Denied(
                    "activation.decide",
                    actor,
                    issuer.id,
                    r.kid,
                    attempt,
                    "'" + actor + "' is not a custodian of issuer " + issuer.id);
        }
        if (actor.equals(r.requester)) {
            throw new Denied(
                    "activation.decide",
                    actor,
                    issuer.id,
                    r.kid,
                    attempt,
                    "'" + actor + "' requested this and cannot decide it: dual control needs other custodians");
        }
        Instant now = clock.instant();
        if (r.toRequest().expiryDue(now)) {
            activations.expire(issuer, r, SYSTEM);
            return new Decided(Outcome.EXPIRED, r.kind, issuer.id, view(r, current));
        }
        if (r.state != ActivationState.OPEN) {
            throw ProblemException.conflict(
                    "request-not-open", "the request is " + r.state + "; decisions are taken only while it is OPEN");
        }
        if (em.find(ActivationDecisionEntity.class, new ActivationDecisionEntity.Id(id, actor)) != null) {
            throw ProblemException.conflict("already-decided", "'" + actor + "' has already decided this request");
        }
        ApprovalEvidence.Checked checked = approve ? evidence.checkApproval(r, actor, signature) : null;
        commands.recordDecision(
                issuer,
                r,
                actor,
                approve,
                comment,
                now,
                attempt,
                checked == null ? null : checked.signature(),
                checked == null ? null : checked.credentialId());
        if (!approve) {
            commands.apply(issuer, r, r.toRequest().reject(now, actor), actor);
            return new Decided(Outcome.REJECTED, r.kind, issuer.id, view(r, current));
        }
        List<ActivationDecisionEntity> decisions =
                ActivationDecisionEntity.list("id.requestId = ?1" + " order by decidedAt, id.custodian", r.id);
        List<String> approvers = evidence.approvers(r, decisions);
        if (approvers.size() < required(r, current)) {
            return new Decided(Outcome.RECORDED, r.kind, issuer.id, view(r, current));
        }
        commands.apply(issuer, r, r.toRequest().approve(now, approvers), actor);
        Outcome outcome = switch (r.kind) {
            case KEY_ACTIVATION -> Outcome.APPROVED; // activated by the caller in a following transaction
            case ISSUER_RESUME -> resume(issuer, r, actor, now, decisions, approvers);
            case POLICY_CHANGE -> applyPolicy(issuer, r, actor, now, decisions, approvers);
            case TRUST_ROLLBACK, TRUST_KEY_ROTATION ->
                executor(r.kind).execute(issuer, r, actor, now) ? Outcome.EXECUTED : Outcome.CANCELLED;
        };
        return new Decided(outcome, r.kind, issuer.id, view(r, issuer.toIssuer()));
    }

    /**
     * Opens a request that is not a key activation (issuer resume, policy change). Caller holds the issuer lock
     * and has checked that none of this kind is live.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public ActivationRequestEntity open(
            IssuerEntity issuer, ActivationKind kind, String requester, String reason, String payload) {
        String proposed =
                kind == ActivationKind.ISSUER_RESUME && chain.head(issuer.id).isPresent()
                        ? chain.proposeResume(issuer.id)
                        : null;
        return open(issuer, kind, requester, reason, payload, proposed);
    }

    /** The same with the proposed policy version (canonical) that the statement's subject names. */
    @Transactional(Transactional.TxType.MANDATORY)
    public ActivationRequestEntity open(
            IssuerEntity issuer,
            ActivationKind kind,
            String requester,
            String reason,
            String payload,
            String proposedPolicy) {
        return commands.openRequest(issuer, kind, null, requester, reason, payload, proposedPolicy, clock.instant());
    }

    /** The live request of this kind for the issuer, after closing it as EXPIRED if its time ran out. Caller holds the issuer lock. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Optional<ActivationRequestEntity> live(IssuerEntity issuer, ActivationKind kind) {
        Optional<ActivationRequestEntity> live = ActivationRequestEntity.<ActivationRequestEntity>find(
                        "issuerId = ?1 and kind = ?2 and state in ?3",
                        issuer.id,
                        kind,
                        List.of(ActivationState.OPEN, ActivationState.APPROVED))
                .firstResultOptional();
        if (live.isPresent() && live.get().toRequest().expiryDue(clock.instant())) {
            activations.expire(issuer, live.get(), SYSTEM);
            return Optional.empty();
        }
        return live;
    }

    @Transactional
    public String statement(UUID id) {
        ActivationRequestEntity r = ActivationRequestEntity.findById(id);
        return r == null ? null : r.statement;
    }

    @Transactional
    public ActivationView view(UUID id) {
        ActivationRequestEntity r = ActivationRequestEntity.findById(id);
        if (r == null) {
            throw ProblemException.notFound("activation request", id.toString());
        }
        return view(r, issuers.require(r.issuerId));
    }

    @Transactional
    public List<ActivationView> list(ActivationState state, List<String> issuerIds, int limit) {
        if (issuerIds != null && issuerIds.isEmpty()) {
            return List.of();
        }
        StringBuilder q = new StringBuilder("select r from ActivationRequestEntity r where 1 = 1");
        if (state != null) {
            q.append(" and r.state = :state");
        }
        if (issuerIds != null) {
            q.append(" and r.issuerId in :issuers");
        }
        q.append(" order by r.createdAt desc, r.id");
        var query = em.createQuery(q.toString(), ActivationRequestEntity.class).setMaxResults(limit);
        if (state != null) {
            query.setParameter("state", state);
        }
        if (issuerIds != null) {
            query.setParameter("issuers", issuerIds);
        }
        List<ActivationRequestEntity> rows = query.getResultList();
        if (rows.isEmpty()) {
            return List.of();
        }
        // Three queries whatever the number of requests: the requests, their decisions, their issuers.
        Map<UUID, List<ActivationDecisionEntity>> decisions = new java.util.HashMap<>();
        ActivationDecisionEntity.<ActivationDecisionEntity>list(
                        "id.requestId in ?1 order by decidedAt, id.custodian",
                        rows.stream().map(r -> r.id).toList())
                .forEach(d -> decisions
                        .computeIfAbsent(d.id.requestId(), x -> new java.util.ArrayList<>())
                        .add(d));
        Map<String, Issuer> byId = new java.util.HashMap<>();
        IssuerEntity.<IssuerEntity>list(
                        "id in ?1",
                        rows.stream().map(r -> r.issuerId).distinct().toList())
                .forEach(i -> byId.put(i.id, i.toIssuer()));
        return rows.stream()
                .map(r -> view(r, byId.get(r.issuerId), decisions.getOrDefault(r.id, List.of())))
                .toList();
    }

    ActivationView view(ActivationRequestEntity r, Issuer issuer) {
        return view(
                r,
                issuer,
                ActivationDecisionEntity.<ActivationDecisionEntity>list(
                        "id.requestId = ?1 order by decidedAt, id.custodian", r.id));
    }

    /** {@code decisions}: all of the request's, ordered by time and custodian. */
    private ActivationView view(ActivationRequestEntity r, Issuer issuer, List<ActivationDecisionEntity> decisions) {
        List<ActivationView.DecisionView> shown = decisions.stream()
                .map(d -> new ActivationView.DecisionView(
                        d.id.custodian(), d.decision.toLowerCase(), d.comment, d.decidedAt))
                .toList();
        return ActivationView.of(
                r, required(r, issuer), approvers(r, issuer, decisions).size(), shown, due(r, issuer));
    }

    /** What the request is due to become and has not been recorded as yet; null when nothing is due. */
    private ActivationState due(ActivationRequestEntity r, Issuer issuer) {
        Instant now = clock.instant();
        if (r.state == ActivationState.OPEN) {
            return r.toRequest().expiryDue(now) ? ActivationState.EXPIRED : null;
        }
        if (r.state == ActivationState.APPROVED
                && r.kind == ActivationKind.KEY_ACTIVATION
                && issuer.status() == IssuerStatus.ACTIVE) {
            dev.keyhold.store.KeyEntity key =
                    dev.keyhold.store.KeyEntity.findByKid(r.kid).orElse(null);
            if (key != null && key.state == dev.keyhold.domain.KeyState.PENDING && !now.isBefore(key.activatableAt)) {
                return ActivationState.EXECUTED;
            }
        }
        return null;
    }

    /**
     * M for this request: the larger of M when it was opened and the issuer's M now, so a policy change can make
     * an open request harder to approve but never easier.
     */
    static int required(ActivationRequestEntity r, Issuer issuer) {
        return Math.max(r.approvalsRequired, issuer.approvalsRequired());
    }

    /** Approvals that count: by custodians the issuer names now, never the requester. */
    static List<String> approvers(ActivationRequestEntity r, Issuer issuer) {
        return approvers(
                r,
                issuer,
                ActivationDecisionEntity.<ActivationDecisionEntity>list(
                        "id.requestId = ?1" + " order by decidedAt, id.custodian", r.id));
    }

    private static List<String> approvers(ActivationRequestEntity r, Issuer issuer, List<ActivationDecisionEntity> ds) {
        return ds.stream()
                .filter(d -> "APPROVE".equals(d.decision))
                .map(d -> d.id.custodian())
                .filter(c -> issuer.isCustodian(c) && !c.equals(r.requester))
                .distinct()
                .toList();
    }

    private ApprovedRequestExecutor executor(ActivationKind kind) {
        return executors.stream()
                .filter(e -> e.kind() == kind)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no executor for approved " + kind + " requests"));
    }

    /**
     * Appends the approved proposal to the policy chain with the approvals' signatures as its evidence. False when
     * the chain has moved since the proposal (the request is then cancelled: it approved another successor).
     */
    private boolean appendApproved(
            IssuerEntity issuer,
            ActivationRequestEntity r,
            List<ActivationDecisionEntity> decisions,
            List<String> approvers) {
        if (r.proposedPolicy == null) {
            return false;
        }
        return chain.appendApproved(
                        issuer.id,
                        r.proposedPolicy,
                        r.id.toString(),
                        r.statement,
                        ApprovalEvidence.evidenceSignatures(decisions, approvers))
                .isPresent();
    }

    private Outcome resume(
            IssuerEntity issuer,
            ActivationRequestEntity r,
            String actor,
            Instant now,
            List<ActivationDecisionEntity> decisions,
            List<String> approvers) {
        if (!appendApproved(issuer, r, decisions, approvers)) {
            commands.apply(
                    issuer,
                    r,
                    r.toRequest()
                            .cancel(
                                    now,
                                    "the issuer's policy changed since the resume was" + " proposed; propose it again"),
                    actor);
            return Outcome.CANCELLED;
        }
        issuer.status = IssuerStatus.ACTIVE;
        issuer.updatedAt = now;
        commands.apply(issuer, r, r.toRequest().execute(now), actor);
        recorder.record(Change.announced(
                "issuer.resumed",
                actor,
                issuer.id,
                null,
                Map.of("requestId", r.id.toString(), "requester", r.requester)));
        return Outcome.EXECUTED;
    }

    /**
     * Applies an approved policy change, validated again as at creation: the configuration it was checked against
     * (JWKS max-age, partitions) may have changed since it was proposed. If it no longer passes, the request is
     * cancelled rather than applied half-way.
     */
    private Outcome applyPolicy(
            IssuerEntity issuer,
            ActivationRequestEntity r,
            String actor,
            Instant now,
            List<ActivationDecisionEntity> decisions,
            List<String> approvers) {
        IssuerValidator.Valid v;
        try {
            v = validator.validate(json.readValue(r.payload, IssuerRequest.class));
        } catch (ValidationException | JsonProcessingException e) {
            commands.apply(
                    issuer,
                    r,
                    r.toRequest().cancel(now, "the proposed policy is no longer valid: " + e.getMessage()),
                    actor);
            return Outcome.CANCELLED;
        }
        Map<String, Object> changes = PolicyDiff.between(issuer, v);
        if (!appendApproved(issuer, r, decisions, approvers)) {
            commands.apply(
                    issuer,
                    r,
                    r.toRequest()
                            .cancel(
                                    now,
                                    "the issuer's policy changed since this change was"
                                            + " proposed; propose it again"),
                    actor);
            return Outcome.CANCELLED;
        }
        issuer.algorithm = v.algorithm();
        issuer.audiences = v.audiences();
        issuer.custodians = v.custodians();
        issuer.approvalsRequired = v.approvalsRequired();
        issuer.signers = v.signers();
        issuer.applyPolicy(v.policy());
        issuer.suspendOnCompromise = v.evidence().suspendOnCompromise();
        issuer.ledgerBestEffort = v.evidence().ledgerBestEffort();
        issuer.updatedAt = now;
        commands.apply(issuer, r, r.toRequest().execute(now), actor);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("requestId", r.id.toString());
        details.put("requester", r.requester);
        details.put("changes", changes);
        recorder.record(Change.announced("issuer.policy-changed", actor, issuer.id, null, details));
        return Outcome.EXECUTED;
    }
}
