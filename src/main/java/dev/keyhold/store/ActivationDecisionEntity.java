package dev.keyhold.store;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Embeddable;
import jakarta.persistence.EmbeddedId;
import jakarta.persistence.Entity;
import jakarta.persistence.Table;
import java.io.Serializable;
import java.time.Instant;
import java.util.UUID;

/** One custodian's decision. The primary key (request, custodian) makes "decides once" a database fact. */
@Entity
@Table(name = "activation_decision")
public class ActivationDecisionEntity extends PanacheEntityBase {

    @Embeddable
    public record Id(@Column(name = "request_id") UUID requestId, String custodian) implements Serializable {}

    @EmbeddedId
    public Id id;

    public String decision;
    public String comment;

    @Column(name = "decided_at")
    public Instant decidedAt;
    /** Canonical JSON of the custodian's signature over the request's statement (null for a rejection). */
    public String signature;

    @Column(name = "credential_id")
    public String credentialId;

    /** A new row: {@code custodian} approved or rejected {@code requestId} at {@code at}, to be persisted. */
    public static ActivationDecisionEntity of(
            UUID requestId, String custodian, boolean approve, String comment, Instant at) {
        ActivationDecisionEntity d = new ActivationDecisionEntity();
        d.id = new Id(requestId, custodian);
        d.decision = approve ? "APPROVE" : "REJECT";
        d.comment = comment;
        d.decidedAt = at;
        return d;
    }

    /** The same, with the signature that made an approval count. */
    public static ActivationDecisionEntity of(
            UUID requestId,
            String custodian,
            boolean approve,
            String comment,
            Instant at,
            String signature,
            String credentialId) {
        ActivationDecisionEntity d = of(requestId, custodian, approve, comment, at);
        d.signature = signature;
        d.credentialId = credentialId;
        return d;
    }
}
