package dev.keyhold.policy;

import dev.keyhold.custodian.ApprovalSignatures;
import dev.keyhold.custodian.signature.InvalidSignatureException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Counts approvals from signatures, never from rows: a signature counts for the custodian whose credential (in a
 * verified policy document) made it over the statement's exact bytes, if that custodian is named in the statement's
 * policy version and is not the statement's requester. Distinct custodians count, not credentials.
 */
@ApplicationScoped
public class Approvals {

    @Inject
    ApprovalSignatures signatures;

    /** A claimed signature: who claims it ({@code custodian}) and the stored signature object (with credentialId). */
    public record Signed(String custodian, Map<String, Object> signature) {}

    /**
     * The custodians whose signatures check out. {@code docs}: the verified policy documents whose custodians count
     * (and in which their credentials are looked up): the version in force at decision time, the previous version
     * for a chain link, the statement's version and later ones at use.
     */
    public Set<String> count(
            String statement, Map<String, Object> stmt, List<Map<String, Object>> docs, List<Signed> claimed) {
        Set<String> out = new LinkedHashSet<>();
        Set<String> named = new java.util.HashSet<>();
        docs.forEach(d -> named.addAll(PolicyDocuments.custodianNames(d)));
        for (Signed s : claimed) {
            if (s.signature() == null
                    || out.contains(s.custodian())
                    || !named.contains(s.custodian())
                    || Objects.equals(s.custodian(), stmt.get("requester"))) {
                continue;
            }
            Map<String, Object> credential =
                    find(docs, s.custodian(), s.signature().get("credentialId"));
            if (credential == null) {
                continue;
            }
            try {
                signatures.verify(credential, statement, s.signature());
                out.add(s.custodian());
            } catch (InvalidSignatureException | ClassCastException e) {
                // not a signature: does not count
            }
        }
        return out;
    }

    /** The credential {@code id} of {@code custodian} in any of the documents, or null. */
    public static Map<String, Object> find(List<Map<String, Object>> docs, String custodian, Object id) {
        for (Map<String, Object> d : docs) {
            for (Map<String, Object> c : PolicyDocuments.credentialsOf(d, custodian)) {
                if (Objects.equals(c.get("id"), id)) {
                    return c;
                }
            }
        }
        return null;
    }
}
