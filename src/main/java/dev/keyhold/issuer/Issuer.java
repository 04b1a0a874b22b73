package dev.keyhold.issuer;

import dev.keyhold.hsm.SigningAlgorithm;

import java.time.Instant;
import java.util.List;

/** An issuer as the services see it: an immutable snapshot of its row. */
public record Issuer(String id, String issuerUri, String partition, SigningAlgorithm algorithm,
                     List<String> audiences, List<String> custodians, int approvalsRequired,
                     List<String> signers, IssuerPolicy policy, IssuerStatus status, Instant createdAt,
                     EvidencePolicy evidence) {

    public boolean isCustodian(String principal) {
        return custodians.contains(principal);
    }

    public boolean isSigner(String principal) {
        return signers.contains(principal);
    }
}
