package dev.keyhold.activation;

import dev.keyhold.domain.IssuerPolicy;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerValidator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** What a policy change changes, field by field ({@code {"from":…, "to":…}}), for the audit record and the event. */
public final class PolicyDiff {

    private PolicyDiff() {}

    public static Map<String, Object> between(IssuerEntity now, IssuerValidator.Valid proposed) {
        Map<String, Object> d = new LinkedHashMap<>();
        put(d, "algorithm", now.algorithm.name(), proposed.algorithm().name());
        put(d, "audiences", List.copyOf(now.audiences), proposed.audiences());
        put(d, "custodians", List.copyOf(now.custodians), proposed.custodians());
        put(d, "approvalsRequired", now.approvalsRequired, proposed.approvalsRequired());
        put(d, "signers", List.copyOf(now.signers), proposed.signers());
        IssuerPolicy a = now.policy();
        IssuerPolicy b = proposed.policy();
        put(
                d,
                "rotationPeriod",
                a.rotationPeriod().toString(),
                b.rotationPeriod().toString());
        put(d, "publishLead", a.publishLead().toString(), b.publishLead().toString());
        put(d, "tokenTtl", a.tokenTtl().toString(), b.tokenTtl().toString());
        put(
                d,
                "activeDeadline",
                a.activeDeadline().toString(),
                b.activeDeadline().toString());
        put(d, "destroyGrace", a.destroyGrace().toString(), b.destroyGrace().toString());
        put(d, "approvalTtl", a.approvalTtl().toString(), b.approvalTtl().toString());
        put(
                d,
                "suspendOnCompromise",
                now.suspendOnCompromise,
                proposed.evidence().suspendOnCompromise());
        put(d, "ledgerBestEffort", now.ledgerBestEffort, proposed.evidence().ledgerBestEffort());
        return d;
    }

    private static void put(Map<String, Object> d, String field, Object from, Object to) {
        if (!Objects.equals(from, to)) {
            Map<String, Object> change = new LinkedHashMap<>();
            change.put("from", from);
            change.put("to", to);
            d.put(field, change);
        }
    }
}
