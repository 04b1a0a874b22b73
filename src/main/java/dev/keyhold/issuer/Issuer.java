package dev.keyhold.issuer;

import dev.keyhold.domain.IssuerPolicy;
import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.domain.SigningAlgorithm;
import java.time.Instant;
import java.util.List;

/** An issuer as the services see it: an immutable snapshot of its row. */
public record Issuer(
        String id,
        String issuerUri,
        String partition,
        SigningAlgorithm algorithm,
        List<String> audiences,
        List<String> custodians,
        int approvalsRequired,
        List<String> signers,
        IssuerPolicy policy,
        IssuerStatus status,
        Instant createdAt,
        EvidencePolicy evidence)
        implements dev.keyhold.security.IssuerMembers {

    @Override
    public boolean isCustodian(String principal) {
        return custodians.contains(principal);
    }

    @Override
    public boolean isSigner(String principal) {
        return signers.contains(principal);
    }
}
