package dev.keyhold.issuer;

import java.util.List;

/**
 * Body of {@code POST /v1/issuers}. Durations are ISO-8601 strings; omitted policy fields take the defaults in
 * {@link IssuerValidator#DEFAULTS}, omitted partition is {@code default}, omitted algorithm ES256;
 * the evidence flags default to false.
 */
public record IssuerRequest(
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
        Boolean suspendOnCompromise,
        Boolean ledgerBestEffort) {}
