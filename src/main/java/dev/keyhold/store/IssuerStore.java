package dev.keyhold.store;

import dev.keyhold.audit.KeyIssuers;
import dev.keyhold.audit.SqlTime;
import dev.keyhold.domain.KeyState;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.Query;
import jakarta.persistence.Tuple;
import jakarta.transaction.Transactional;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The SQL of the issuer aggregate's rows ({@code issuer}, {@code signing_key}, {@code activation_request},
 * {@code activation_decision}) that is not the Panache entities' own JPQL: the sweeper's due query, the stored
 * {@code next_due_at}, the reconciler's key reads, the issuers without a policy chain and the operations view. Rows
 * are read by column name into records. Every method joins the caller's transaction; none calls the HSM. Key,
 * request and decision rows are only read here: their one writer is {@code command/LifecycleCommands}.
 */
@ApplicationScoped
public class IssuerStore implements KeyIssuers {

    @Inject
    EntityManager em;

    /** A key row as the HSM reconciler compares it with the objects of its partition. */
    public record PartitionKey(String kid, String issuerId, String hsmHandle, KeyState state) {}

    /**
     * One issuer as the operations view sees it: its ACTIVE key's notAfter and activation, its PENDING key and that
     * key's live (OPEN or APPROVED) activation request, each null when there is none.
     */
    public record IssuerOverview(
            String issuerId,
            String status,
            Instant activeNotAfter,
            Instant activeActivatedAt,
            long rotationPeriodSeconds,
            String pendingKid,
            String pendingRequestState) {}

    /** An issuer's OPEN activation requests (any kind): how many, and the earliest expiry. */
    public record OpenRequests(String issuerId, int count, Instant earliestExpiry) {}

    // ------------------------------------------------------------------------------------------------ issuer rows

    /** The issuer of a key (the audit trail's {@link KeyIssuers} port). */
    @Override
    public Optional<String> issuerOfKey(String kid) {
        return em.createNativeQuery("select issuer_id from signing_key where kid = ?1", Tuple.class)
                .setParameter(1, kid)
                .getResultStream()
                .findFirst()
                .map(t -> ((Tuple) t).get("issuer_id", String.class));
    }
    /** Issuers whose stored {@code next_due_at} has come, by id; only those given when {@code onlyIssuers} is set. */
    public List<String> dueIssuers(Instant now, Collection<String> onlyIssuers) {
        String sql = "select id from issuer where next_due_at <= ?1" + (onlyIssuers == null ? "" : " and id in (?2)")
                + " order by id";
        Query q = em.createNativeQuery(sql, Tuple.class).setParameter(1, Timestamp.from(now));
        if (onlyIssuers != null) {
            q.setParameter(2, List.copyOf(onlyIssuers));
        }
        return ids(q);
    }

    /** The stored {@code next_due_at} (empty: no such issuer, or null). */
    public Optional<Instant> nextDueAt(String issuerId) {
        List<Tuple> rows = tuples(em.createNativeQuery("select next_due_at from issuer where id = ?1", Tuple.class)
                .setParameter(1, issuerId));
        return rows.isEmpty() ? Optional.empty() : Optional.ofNullable(instant(rows.get(0), "next_due_at"));
    }

    /**
     * Stores {@code next_due_at} (null when empty), unless another transaction holds the issuer row: a transaction
     * without the issuer lock skips the row rather than wait for it (the lock holder stores it).
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public void storeNextDueAt(String issuerId, Optional<Instant> next) {
        Query update = em.createNativeQuery("update issuer set next_due_at = " + (next.isPresent() ? "?2" : "null")
                        + " where id = (select id from issuer where id = ?1 for update skip locked)")
                .setParameter(1, issuerId);
        next.ifPresent(at -> update.setParameter(2, Timestamp.from(at)));
        update.executeUpdate();
    }

    /** Issuers without any version in {@code issuer_policy}, by id (the policy chain upgrade's list). */
    public List<String> withoutPolicyChain() {
        return ids(em.createNativeQuery(
                "select id from issuer i where not exists (select 1 from issuer_policy p where"
                        + " p.issuer_id = i.id) order by id",
                Tuple.class));
    }

    // ------------------------------------------------------------------------------------------------ key rows

    /** The key rows of an HSM partition, by HSM handle. */
    public Map<String, PartitionKey> keysInPartition(String partition) {
        Map<String, PartitionKey> byHandle = new HashMap<>();
        for (Tuple t : tuples(em.createNativeQuery(
                        "select kid, issuer_id, hsm_handle, state from signing_key where partition_name = ?1",
                        Tuple.class)
                .setParameter(1, partition))) {
            PartitionKey k = partitionKey(t);
            byHandle.put(k.hsmHandle(), k);
        }
        return byHandle;
    }

    /** Whether a key row names this HSM object. */
    public boolean hasKeyAt(String partition, String handle) {
        Tuple t = (Tuple) em.createNativeQuery(
                        "select count(*) as n from signing_key where partition_name = ?1 and hsm_handle = ?2",
                        Tuple.class)
                .setParameter(1, partition)
                .setParameter(2, handle)
                .getSingleResult();
        return t.get("n", Number.class).longValue() > 0;
    }

    // ------------------------------------------------------------------------------------------------ operations

    /**
     * One row per issuer: at most one ACTIVE and one PENDING key per issuer and at most one live (OPEN or APPROVED)
     * request per key are database constraints.
     */
    public List<IssuerOverview> overview() {
        List<IssuerOverview> out = new ArrayList<>();
        for (Tuple t : tuples(em.createNativeQuery(
                "select i.id as issuer_id, i.status as issuer_status, a.not_after as active_not_after,"
                        + " a.activated_at as active_activated_at, i.rotation_period_s as rotation_period_s,"
                        + " p.kid as pending_kid, r.state as pending_request_state from issuer i"
                        + " left join signing_key a on a.issuer_id = i.id and a.state = 'ACTIVE'"
                        + " left join signing_key p on p.issuer_id = i.id and p.state = 'PENDING'"
                        + " left join activation_request r on r.kid = p.kid and r.state in ('OPEN', 'APPROVED')",
                Tuple.class))) {
            out.add(overview(t));
        }
        return out;
    }

    /** OPEN activation requests per issuer (issuers without any are absent). */
    public Map<String, OpenRequests> openRequests() {
        Map<String, OpenRequests> out = new HashMap<>();
        for (Tuple t : tuples(em.createNativeQuery(
                "select issuer_id, count(*) as open_count, min(expires_at) as earliest_expiry"
                        + " from activation_request where state = 'OPEN' group by issuer_id",
                Tuple.class))) {
            OpenRequests o = openRequests(t);
            out.put(o.issuerId(), o);
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ rows

    private static PartitionKey partitionKey(Tuple t) {
        return new PartitionKey(
                t.get("kid", String.class),
                t.get("issuer_id", String.class),
                t.get("hsm_handle", String.class),
                KeyState.valueOf(t.get("state", String.class)));
    }

    private static IssuerOverview overview(Tuple t) {
        return new IssuerOverview(
                t.get("issuer_id", String.class),
                t.get("issuer_status", String.class),
                instant(t, "active_not_after"),
                instant(t, "active_activated_at"),
                t.get("rotation_period_s", Number.class).longValue(),
                t.get("pending_kid", String.class),
                t.get("pending_request_state", String.class));
    }

    private static OpenRequests openRequests(Tuple t) {
        return new OpenRequests(
                t.get("issuer_id", String.class),
                t.get("open_count", Number.class).intValue(),
                instant(t, "earliest_expiry"));
    }

    private static List<String> ids(Query q) {
        return tuples(q).stream().map(t -> t.get("id", String.class)).toList();
    }

    @SuppressWarnings("unchecked")
    private static List<Tuple> tuples(Query q) {
        return (List<Tuple>) q.getResultList();
    }

    /** A {@code timestamptz} column, null when SQL null. */
    private static Instant instant(Tuple t, String column) {
        Object value = t.get(column);
        return value == null ? null : SqlTime.instant(value);
    }
}
