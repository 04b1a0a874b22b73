package dev.keyhold.lifecycle;

import dev.keyhold.audit.SqlTime;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.Tuple;
import jakarta.transaction.Transactional;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code hsm_orphan}: HSM objects with Keyhold's handle prefix and no key row, remembered from the first
 * reconciliation that saw them until they are destroyed or stop being orphans. The only class with SQL for that
 * table. Every method joins the caller's transaction; none calls the HSM.
 */
@ApplicationScoped
public class HsmOrphanStore {

    @Inject
    EntityManager em;

    /**
     * Records {@code now} as the first-seen time of each orphan not yet remembered, and forgets the partition's
     * remembered orphans that are not among {@code orphans} any more (their row appeared, or their object is gone).
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public void remember(String partition, Set<String> orphans, Instant now) {
        for (String handle : orphans) {
            em.createNativeQuery(
                            "insert into hsm_orphan (partition_name, hsm_handle, first_seen_at) values (?1, ?2, ?3)"
                                    + " on conflict do nothing")
                    .setParameter(1, partition)
                    .setParameter(2, handle)
                    .setParameter(3, Timestamp.from(now))
                    .executeUpdate();
        }
        em.createNativeQuery(
                        "delete from hsm_orphan where partition_name = ?1 and not (hsm_handle = any(cast(?2 as text[])))")
                .setParameter(1, partition)
                .setParameter(2, toPgArray(orphans))
                .executeUpdate();
    }

    /** When the orphan was first seen, its row locked until the caller's transaction ends; empty if not remembered. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Optional<Instant> lockFirstSeen(String partition, String handle) {
        @SuppressWarnings("unchecked")
        List<Tuple> rows = em.createNativeQuery(
                        "select first_seen_at from hsm_orphan where partition_name = ?1 and hsm_handle = ?2"
                                + " for update",
                        Tuple.class)
                .setParameter(1, partition)
                .setParameter(2, handle)
                .getResultList();
        return rows.stream().findFirst().map(t -> SqlTime.instant(t.get("first_seen_at")));
    }

    /** Forgets one orphan (claimed for destruction, or no longer one). */
    @Transactional(Transactional.TxType.MANDATORY)
    public void forget(String partition, String handle) {
        em.createNativeQuery("delete from hsm_orphan where partition_name = ?1 and hsm_handle = ?2")
                .setParameter(1, partition)
                .setParameter(2, handle)
                .executeUpdate();
    }

    private static String toPgArray(Set<String> values) {
        StringBuilder b = new StringBuilder("{");
        for (String v : values) {
            if (b.length() > 1) {
                b.append(',');
            }
            b.append('"').append(v.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        }
        return b.append('}').toString();
    }
}
