package dev.keyhold.activation;

import java.util.List;

/**
 * Body of {@code POST /v1/issuers/{id}/policy-changes}: the fields to change; omitted ones keep their value.
 * {@code id}, {@code issuerUri} and {@code partition} are immutable (an issuer's identity and where its keys
 * live): they may be repeated unchanged, any other value is refused with 422.
 */
public record PolicyChangeRequest(
        String id,
        String issuerUri,
        String partition,
        String algorithm,
        List<String> audiences,
        List<String> custodians,
        Integer approvalsRequired,
        List<String> signers,
        String rotationPeriod,
        String publishLead,
        String tokenTtl,
        String activeDeadline,
        String destroyGrace,
        String approvalTtl,
        String reason,
        Boolean suspendOnCompromise,
        Boolean ledgerBestEffort) {}
