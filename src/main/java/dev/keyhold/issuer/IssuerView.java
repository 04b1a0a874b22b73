package dev.keyhold.issuer;

import dev.keyhold.domain.IssuerPolicy;
import dev.keyhold.domain.IssuerStatus;
import java.time.Instant;
import java.util.List;

/** An issuer on the wire, with what an operator needs at a glance: status, signer, when rotation is due. */
public record IssuerView(
        String id,
        String issuerUri,
        String partition,
        String algorithm,
        List<String> audiences,
        List<String> custodians,
        int approvalsRequired,
        List<String> signers,
        String rotationPeriod,
        String publishLead,
        String tokenTtl,
        String activeDeadline,
        String destroyGrace,
        String approvalTtl,
        IssuerStatus status,
        String activeKid,
        Instant nextRotationDue,
        boolean overdue,
        List<String> awaitingApproval,
        Instant createdAt,
        boolean suspendOnCompromise,
        boolean ledgerBestEffort) {

    public static IssuerView of(
            Issuer i, String activeKid, Instant nextRotationDue, boolean overdue, List<String> awaitingApproval) {
        IssuerPolicy p = i.policy();
        return new IssuerView(
                i.id(),
                i.issuerUri(),
                i.partition(),
                i.algorithm().name(),
                i.audiences(),
                i.custodians(),
                i.approvalsRequired(),
                i.signers(),
                p.rotationPeriod().toString(),
                p.publishLead().toString(),
                p.tokenTtl().toString(),
                p.activeDeadline().toString(),
                p.destroyGrace().toString(),
                p.approvalTtl().toString(),
                i.status(),
                activeKid,
                nextRotationDue,
                overdue,
                awaitingApproval,
                i.createdAt(),
                i.evidence().suspendOnCompromise(),
                i.evidence().ledgerBestEffort());
    }
}
