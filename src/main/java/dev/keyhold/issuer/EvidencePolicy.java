package dev.keyhold.issuer;

/**
 * What an issuer wants done with the evidence of its tokens (docs/evidence.md). {@code suspendOnCompromise}: a
 * reported token that verifies under one of its keys but that Keyhold never issued pulls the kill switch at once.
 * {@code ledgerBestEffort}: a token is handed out before its ledger batch is durable (lower latency; a crash may
 * lose the last few milliseconds of the ledger). Both default to false.
 */
public record EvidencePolicy(boolean suspendOnCompromise, boolean ledgerBestEffort) {

    public static final EvidencePolicy DEFAULT = new EvidencePolicy(false, false);
}
