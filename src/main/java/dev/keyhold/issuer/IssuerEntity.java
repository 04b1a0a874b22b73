package dev.keyhold.issuer;

import dev.keyhold.domain.IssuerPolicy;
import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.domain.SigningAlgorithm;
import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import jakarta.persistence.Version;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

@Entity
@Table(name = "issuer")
public class IssuerEntity extends PanacheEntityBase {

    @Id
    public String id;

    @Column(name = "issuer_uri")
    public String issuerUri;

    @Column(name = "partition_name")
    public String partition;

    @Enumerated(EnumType.STRING)
    public SigningAlgorithm algorithm;

    @JdbcTypeCode(SqlTypes.JSON)
    public List<String> audiences;

    @JdbcTypeCode(SqlTypes.JSON)
    public List<String> custodians;

    @Column(name = "approvals_required")
    public int approvalsRequired;

    @JdbcTypeCode(SqlTypes.JSON)
    public List<String> signers;

    @Column(name = "rotation_period_s")
    public long rotationPeriodSeconds;

    @Column(name = "publish_lead_s")
    public long publishLeadSeconds;

    @Column(name = "token_ttl_s")
    public long tokenTtlSeconds;

    @Column(name = "active_deadline_s")
    public long activeDeadlineSeconds;

    @Column(name = "destroy_grace_s")
    public long destroyGraceSeconds;

    @Column(name = "approval_ttl_s")
    public long approvalTtlSeconds;

    @Enumerated(EnumType.STRING)
    public IssuerStatus status;

    @Column(name = "created_at")
    public Instant createdAt;

    @Column(name = "updated_at")
    public Instant updatedAt;

    @Version
    public long version;

    @Column(name = "suspend_on_compromise")
    public boolean suspendOnCompromise;

    @Column(name = "ledger_best_effort")
    public boolean ledgerBestEffort;

    public Issuer toIssuer() {
        return new Issuer(
                id,
                issuerUri,
                partition,
                algorithm,
                List.copyOf(audiences),
                List.copyOf(custodians),
                approvalsRequired,
                List.copyOf(signers),
                policy(),
                status,
                createdAt,
                new EvidencePolicy(suspendOnCompromise, ledgerBestEffort));
    }

    public IssuerPolicy policy() {
        return new IssuerPolicy(
                Duration.ofSeconds(rotationPeriodSeconds),
                Duration.ofSeconds(publishLeadSeconds),
                Duration.ofSeconds(tokenTtlSeconds),
                Duration.ofSeconds(activeDeadlineSeconds),
                Duration.ofSeconds(destroyGraceSeconds),
                Duration.ofSeconds(approvalTtlSeconds));
    }

    public void applyPolicy(IssuerPolicy p) {
        rotationPeriodSeconds = p.rotationPeriod().getSeconds();
        publishLeadSeconds = p.publishLead().getSeconds();
        tokenTtlSeconds = p.tokenTtl().getSeconds();
        activeDeadlineSeconds = p.activeDeadline().getSeconds();
        destroyGraceSeconds = p.destroyGrace().getSeconds();
        approvalTtlSeconds = p.approvalTtl().getSeconds();
    }
}
