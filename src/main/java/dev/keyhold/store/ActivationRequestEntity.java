package dev.keyhold.store;

import dev.keyhold.domain.ActivationKind;
import dev.keyhold.domain.ActivationState;
import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import jakarta.persistence.Version;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

@Entity
@Table(name = "activation_request")
public class ActivationRequestEntity extends PanacheEntityBase {

    @Id
    public UUID id;

    @Enumerated(EnumType.STRING)
    public ActivationKind kind;

    @Column(name = "issuer_id")
    public String issuerId;

    public String kid;
    public String requester;
    public String reason;

    @Enumerated(EnumType.STRING)
    public ActivationState state;

    @Column(name = "approvals_required")
    public int approvalsRequired;
    /** For POLICY_CHANGE: the proposed issuer definition, as JSON. */
    public String payload;

    @Column(name = "created_at")
    public Instant createdAt;

    @Column(name = "expires_at")
    public Instant expiresAt;

    @Column(name = "decided_at")
    public Instant decidedAt;

    @Column(name = "executed_at")
    public Instant executedAt;
    /** The exact canonical bytes custodians sign (null for requests opened before custodian signatures). */
    public String statement;
    /** For ISSUER_RESUME and POLICY_CHANGE: the canonical policy document the statement's subject names. */
    @Column(name = "proposed_policy")
    public String proposedPolicy;

    @Version
    public long version;

    public dev.keyhold.domain.ActivationRequest toRequest() {
        return new dev.keyhold.domain.ActivationRequest(
                id,
                kind,
                issuerId,
                kid,
                requester,
                state,
                approvalsRequired,
                createdAt,
                expiresAt,
                decidedAt,
                executedAt);
    }

    /** A new row holding {@code r} (an opened request) with its reason and payload, to be persisted. */
    public static ActivationRequestEntity of(dev.keyhold.domain.ActivationRequest r, String reason, String payload) {
        return of(r, reason, payload, null, null);
    }

    /** The same, with the statement fixed at opening and the proposed policy version (resume, policy change). */
    public static ActivationRequestEntity of(
            dev.keyhold.domain.ActivationRequest r,
            String reason,
            String payload,
            String statement,
            String proposedPolicy) {
        ActivationRequestEntity e = new ActivationRequestEntity();
        e.statement = statement;
        e.proposedPolicy = proposedPolicy;
        e.id = r.id();
        e.kind = r.kind();
        e.issuerId = r.issuerId();
        e.kid = r.kid();
        e.requester = r.requester();
        e.reason = reason;
        e.payload = payload;
        e.approvalsRequired = r.approvalsRequired();
        e.createdAt = r.createdAt();
        e.expiresAt = r.expiresAt();
        e.apply(r);
        return e;
    }

    /** Takes the state and timestamps of a transition's new value. */
    public void apply(dev.keyhold.domain.ActivationRequest r) {
        state = r.state();
        decidedAt = r.decidedAt();
        executedAt = r.executedAt();
    }

    public static Optional<ActivationRequestEntity> liveForKey(String kid) {
        return find("kid = ?1 and state in ?2", kid, List.of(ActivationState.OPEN, ActivationState.APPROVED))
                .firstResultOptional();
    }
}
