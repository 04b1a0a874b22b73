package dev.keyhold.policy;

import dev.keyhold.audit.SqlTime;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.Tuple;
import jakarta.transaction.Transactional;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code issuer_policy}: the versions of each issuer's policy chain. The only class with SQL for that table;
 * {@link PolicyChain} decides what is appended and verifies what is read. Every method joins the caller's
 * transaction; none calls the HSM.
 */
@ApplicationScoped
public class PolicyStore {

    @Inject
    EntityManager em;

    /** The issuer's versions, oldest first. */
    public List<PolicyChain.Version> versions(String issuerId) {
        @SuppressWarnings("unchecked")
        List<Tuple> rows = em.createNativeQuery(
                        "select version, document, digest, evidence, created_at from issuer_policy"
                                + " where issuer_id = ?1 order by version",
                        Tuple.class)
                .setParameter(1, issuerId)
                .getResultList();
        List<PolicyChain.Version> out = new ArrayList<>(rows.size());
        for (Tuple t : rows) {
            out.add(version(t));
        }
        return out;
    }

    /** Appends one version as given (its checks are the caller's). */
    @Transactional(Transactional.TxType.MANDATORY)
    public void insert(
            String issuerId, int version, String document, String digest, String evidence, Instant createdAt) {
        em.createNativeQuery("insert into issuer_policy (issuer_id, version, document, digest, evidence, created_at)"
                        + " values (?1, ?2, ?3, ?4, ?5, ?6)")
                .setParameter(1, issuerId)
                .setParameter(2, version)
                .setParameter(3, document)
                .setParameter(4, digest)
                .setParameter(5, evidence)
                .setParameter(6, Timestamp.from(createdAt))
                .executeUpdate();
    }

    private static PolicyChain.Version version(Tuple t) {
        return new PolicyChain.Version(
                t.get("version", Number.class).intValue(),
                t.get("document", String.class),
                t.get("digest", String.class),
                t.get("evidence", String.class),
                SqlTime.instant(t.get("created_at")));
    }
}
