package dev.keyhold.activation;

import dev.keyhold.custodian.ApprovalSignatures;
import dev.keyhold.custodian.Credentials;
import dev.keyhold.custodian.signature.InvalidSignatureException;
import dev.keyhold.domain.ActivationKind;
import dev.keyhold.domain.CanonicalJson;
import dev.keyhold.domain.KeyState;
import dev.keyhold.error.ProblemException;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.policy.Approvals;
import dev.keyhold.policy.PolicyChain;
import dev.keyhold.policy.PolicyDocuments;
import dev.keyhold.policy.PolicyViolation;
import dev.keyhold.policy.Statements;
import dev.keyhold.store.ActivationDecisionEntity;
import dev.keyhold.store.ActivationRequestEntity;
import dev.keyhold.store.KeyEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Approval evidence: checks a custodian's signature when they approve, counts approvals from signatures (never from
 * rows), and verifies at use that an issuer's state is what custodians signed: its policy chain, the issuer row
 * against the chain head, and the ACTIVE key's activation signatures.
 */
@ApplicationScoped
public class ApprovalEvidence {

    public static final String PROBLEM = "approval-evidence-invalid";
    private static final Set<String> SIGNATURE_FIELDS =
            Set.of("format", "value", "credentialId", "authenticatorData", "clientDataJSON", "signature");

    @Inject
    PolicyChain chain;

    @Inject
    Approvals approvals;

    @Inject
    ApprovalSignatures signatures;

    @Inject
    Credentials credentials;

    @Inject
    HsmPort hsm;

    /** A checked approval: the signature as stored (canonical JSON, with the credential's id) and the credential. */
    public record Checked(String signature, String credentialId) {}

    /**
     * Checks {@code actor}'s signature over the request's statement with their credentials in the policy version in
     * force. 422 when it does not check out (the caller records nothing); 409 approval-evidence-invalid when the
     * issuer's policy chain itself does not verify.
     */
    public Checked checkApproval(ActivationRequestEntity r, String actor, Map<String, Object> signature) {
        if (r.statement == null) {
            throw unprocessable("this request was opened before approvals were signed and cannot be approved; reject it"
                    + " or let it expire, and open a new one");
        }
        if (signature == null) {
            throw unprocessable("an approval needs a signature over the request's statement (GET /v1/activations/"
                    + r.id + "/statement): {\"format\":\"sshsig\",\"value\":\"-----BEGIN SSH SIGNATURE-----...\"} "
                    + "(ssh-keygen -Y sign -n keyhold-approval) or a WebAuthn assertion");
        }
        Map<String, Object> sig = clean(signature);
        List<PolicyChain.Version> versions = verifiedChain(r.issuerId);
        Map<String, Object> stmt = PolicyDocuments.parse(r.statement);
        versionOf(versions, stmt);
        Map<String, Object> head = versions.get(versions.size() - 1).doc();
        if (!PolicyDocuments.custodianNames(head).contains(actor)) {
            throw unprocessable("'" + actor + "' is not a custodian in the issuer's policy version in force ("
                    + PolicyDocuments.version(head) + ")");
        }
        List<Map<String, Object>> creds = PolicyDocuments.credentialsOf(head, actor);
        if (creds.isEmpty()) {
            throw unprocessable("'" + actor + "' has no credential in the issuer's policy version in force ("
                    + PolicyDocuments.version(head) + "); enroll one (POST /v1/custodians/me/credentials)");
        }
        String last = "no credential of this format";
        for (Map<String, Object> c : creds) {
            if (!Objects.equals(c.get("format"), sig.get("format"))) {
                continue;
            }
            try {
                signatures.verify(c, r.statement, sig);
                Map<String, Object> stored = new LinkedHashMap<>(sig);
                stored.put("credentialId", c.get("id"));
                return new Checked(CanonicalJson.canonicalize(stored), (String) c.get("id"));
            } catch (InvalidSignatureException e) {
                last = e.getMessage();
            }
        }
        throw unprocessable("the signature does not check out over this request's statement with any of your"
                + " credentials in the policy in force: " + last);
    }

    /**
     * The custodians whose stored approvals carry a valid signature over the request's statement, by custodians of
     * the version in force with a credential of that version, never the requester.
     */
    public List<String> approvers(ActivationRequestEntity r, List<ActivationDecisionEntity> decisions) {
        if (r.statement == null) {
            return List.of();
        }
        List<PolicyChain.Version> versions = verifiedChain(r.issuerId);
        Map<String, Object> stmt = PolicyDocuments.parse(r.statement);
        versionOf(versions, stmt);
        Map<String, Object> head = versions.get(versions.size() - 1).doc();
        return List.copyOf(approvals.count(r.statement, stmt, List.of(head), signed(decisions)));
    }

    /** The stored signatures of the approvals, as the chain's evidence lists them. */
    public static List<Map<String, Object>> evidenceSignatures(
            List<ActivationDecisionEntity> decisions, List<String> approvers) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ActivationDecisionEntity d : decisions) {
            if ("APPROVE".equals(d.decision) && d.signature != null && approvers.contains(d.id.custodian())) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("custodian", d.id.custodian());
                m.putAll(PolicyDocuments.parse(d.signature));
                out.add(m);
            }
        }
        return out;
    }

    /**
     * Verification at use: the issuer's chain (and its HSM mirror), the issuer row against the head, credential rows
     * of the head's custodians, and the ACTIVE key's activation signatures. Reads only; runs in the caller's
     * transaction (deliberately not an interceptor-managed one: a finding must not mark it for rollback).
     *
     * @return whether every check ran: false when the HSM did not answer for the mirror or the key's public key (the
     *     result must then not be cached: signing fails on the HSM anyway, and the checks run again once it is back)
     * @throws PolicyViolation on any finding
     */
    public boolean verifyIssuer(IssuerEntity issuer, KeyEntity active) {
        boolean complete = true;
        List<PolicyChain.Version> versions;
        try {
            versions = chain.verify(issuer.id, true);
        } catch (dev.keyhold.hsm.HsmException e) {
            versions = chain.verify(issuer.id, false);
            complete = false;
        }
        PolicyChain.Version headV = versions.get(versions.size() - 1);
        Map<String, Object> head = headV.doc();
        String row = CanonicalJson.canonicalize(PolicyDocuments.rowView(PolicyChain.fields(issuer)));
        if (!row.equals(CanonicalJson.canonicalize(PolicyDocuments.rowView(head)))) {
            throw new PolicyViolation(
                    "issuer-row-differs",
                    "issuer " + issuer.id + "'s stored settings differ from its" + " policy version " + headV.version()
                            + " (a database write)");
        }
        List<String> unsealed = credentials.unsealed(PolicyDocuments.custodianNames(head));
        if (!unsealed.isEmpty()) {
            throw new PolicyViolation(
                    "credential-unsealed",
                    "credential " + unsealed.get(0) + " of a custodian of issuer " + issuer.id
                            + " carries no valid HSM seal (a database write)");
        }
        if (active == null) {
            return complete;
        }
        if (!issuer.id.equals(active.issuerId) || active.state != KeyState.ACTIVE) {
            throw new PolicyViolation("key-not-bound", "key " + active.kid + " is not an ACTIVE key of " + issuer.id);
        }
        String thumb = Statements.thumbprint(active.publicJwk);
        String inHsm = thumb;
        try {
            inHsm = Statements.thumbprint(hsm.publicKey(active.partition, active.hsmHandle), active.algorithm);
        } catch (dev.keyhold.hsm.HsmException e) {
            complete = false;
        }
        if (!thumb.equals(active.kid) || !thumb.equals(inHsm)) {
            throw new PolicyViolation(
                    "key-mismatch",
                    "the ACTIVE key " + active.kid + " of issuer " + issuer.id
                            + " does not match its public key in the HSM (a database write)");
        }
        List<ActivationRequestEntity> requests = ActivationRequestEntity.list(
                "issuerId = ?1 and kid = ?2 and kind = ?3", issuer.id, active.kid, ActivationKind.KEY_ACTIVATION);
        for (ActivationRequestEntity r : requests) {
            if (activationHolds(issuer.id, r, active, versions)) {
                return complete;
            }
        }
        throw new PolicyViolation(
                "activation-unsigned",
                "the ACTIVE key " + active.kid + " of issuer " + issuer.id
                        + " has no activation statement signed by enough custodians (a database write, or a key activated"
                        + " before approvals were signed)");
    }

    private boolean activationHolds(
            String issuerId, ActivationRequestEntity r, KeyEntity key, List<PolicyChain.Version> versions) {
        if (r.statement == null) {
            return false;
        }
        Map<String, Object> stmt;
        try {
            stmt = PolicyDocuments.parse(r.statement);
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (!(stmt.get("subject") instanceof Map<?, ?> sub)
                || !Statements.TYPE.equals(stmt.get("type"))
                || !issuerId.equals(stmt.get("issuer"))
                || !"KEY_ACTIVATION".equals(stmt.get("kind"))
                || !key.kid.equals(sub.get("kid"))
                || !key.kid.equals(sub.get("jwkThumbprint"))
                || !r.id.toString().equals(stmt.get("request"))) {
            return false;
        }
        Map<String, Object> stmtDoc;
        try {
            stmtDoc = versionOf(versions, stmt);
        } catch (ProblemException e) {
            return false;
        }
        int v = PolicyDocuments.version(stmtDoc);
        List<Map<String, Object>> docs = versions.stream()
                .filter(x -> x.version() >= v)
                .map(PolicyChain.Version::doc)
                .toList();
        int required = Math.max(
                PolicyDocuments.approvalsRequired(stmtDoc),
                stmt.get("approvalsRequired") instanceof Number n ? n.intValue() : 0);
        List<ActivationDecisionEntity> decisions = ActivationDecisionEntity.list("id.requestId", r.id);
        return approvals.count(r.statement, stmt, docs, signed(decisions)).size() >= required;
    }

    private static List<Approvals.Signed> signed(List<ActivationDecisionEntity> decisions) {
        List<Approvals.Signed> out = new ArrayList<>();
        for (ActivationDecisionEntity d : decisions) {
            if ("APPROVE".equals(d.decision) && d.signature != null) {
                try {
                    out.add(new Approvals.Signed(d.id.custodian(), PolicyDocuments.parse(d.signature)));
                } catch (IllegalArgumentException ignored) {
                    // not a signature
                }
            }
        }
        return out;
    }

    private List<PolicyChain.Version> verifiedChain(String issuerId) {
        try {
            return chain.verify(issuerId, false);
        } catch (PolicyViolation v) {
            throw ProblemException.conflict(PROBLEM, v.getMessage());
        }
    }

    /** The verified document the statement names (version and digest), else 409. */
    private static Map<String, Object> versionOf(List<PolicyChain.Version> versions, Map<String, Object> stmt) {
        if (stmt.get("policyVersion") instanceof Number n && n.intValue() >= 1 && n.intValue() <= versions.size()) {
            PolicyChain.Version v = versions.get(n.intValue() - 1);
            if (v.digest().equals(stmt.get("policyDigest"))) {
                return v.doc();
            }
        }
        throw ProblemException.conflict(
                PROBLEM, "the statement names a policy version that is not in the issuer's" + " verified chain");
    }

    private static Map<String, Object> clean(Map<String, Object> signature) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : signature.entrySet()) {
            if (!SIGNATURE_FIELDS.contains(e.getKey()) || !(e.getValue() instanceof String s) || s.length() > 20_000) {
                throw unprocessable("signature." + e.getKey() + ": unknown field or not a string");
            }
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }

    static ProblemException unprocessable(String detail) {
        return new ProblemException(422, "invalid-approval-signature", "Approval signature refused", detail, null);
    }
}
