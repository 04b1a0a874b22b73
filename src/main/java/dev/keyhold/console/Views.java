package dev.keyhold.console;

import io.quarkus.qute.TemplateData;
import java.util.List;

/**
 * What the console's templates render: flat, pre-formatted values (times as text, lists joined), so templates hold
 * no logic beyond showing or hiding. Built by {@link ConsoleViews} from the same service views the API returns.
 */
public final class Views {

    private Views() {}

    /** The signed-in person and what the navigation offers them. {@code csrf} goes into every form. */
    @TemplateData
    public record Nav(
            String user, String roles, boolean custodian, boolean admin, boolean auditor, String csrf, String active) {}

    /** One of the custodian's credentials; {@code sealed} false: a row without a valid HSM seal (not a credential). */
    @TemplateData
    public record CredentialRow(String id, String format, String algorithm, String enrolledAt, boolean sealed) {}

    @TemplateData
    public record DecisionRow(String custodian, String decision, String comment, String decidedAt) {}

    @TemplateData
    public record DiffRow(String field, String from, String to) {}

    /**
     * One activation request with everything needed to decide it. {@code canDecide} is true only for a custodian the
     * issuer names who is not the requester and has not decided, while the request is OPEN; {@code whyNot} says why
     * not otherwise. The server checks all of it again on POST (ActivationRequests.decide).
     */
    @TemplateData
    public record RequestCard(
            String id,
            String kind,
            String kindLabel,
            String issuerId,
            String kid,
            String algorithm,
            String keyShape,
            String requester,
            String reason,
            String state,
            String createdAt,
            String expiresAt,
            int approvals,
            int approvalsRequired,
            List<DecisionRow> decisions,
            List<DiffRow> diff,
            boolean canDecide,
            String whyNot) {}

    @TemplateData
    public record IssuerRow(
            String id,
            String issuerUri,
            String status,
            boolean suspended,
            String algorithm,
            String partition,
            String activeKid,
            String nextRotation,
            boolean overdue,
            List<String> pendingKids,
            String custodians,
            int approvalsRequired,
            int custodianCount,
            String audiences,
            String policy) {}

    @TemplateData
    public record KeyRow(
            String kid,
            String state,
            String algorithm,
            String keyShape,
            String createdAt,
            String activatableAt,
            String activatedAt,
            String notAfter,
            String retiredAt,
            String verifyUntil,
            String destroyAt,
            String destroyedAt,
            String revokedAt,
            String revocationReason,
            boolean hsmObjectMissing,
            String issuerId,
            String activationRequestId) {}

    @TemplateData
    public record RequestLink(String id, String kind, String state, String kid, String requester, String createdAt) {}

    @TemplateData
    public record TimelineRow(
            long seq, String time, String action, String label, String actor, String outcome, String details) {}

    @TemplateData
    public record ChainState(
            boolean ok,
            long records,
            String firstBrokenSeq,
            String reason,
            int checkpoints,
            String checkpointSeq,
            String checkpointTime,
            String checkpointNode,
            String checkpointKey) {}

    @TemplateData
    public record AuditFilter(
            String issuer, String kid, String actor, String action, String from, String to, int limit) {}
}
