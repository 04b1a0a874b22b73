package dev.keyhold.trust;

import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.jwks.IssuerCache;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.Query;
import jakarta.persistence.Tuple;
import jakarta.transaction.Transactional;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.hibernate.query.TypedParameterValue;
import org.hibernate.type.StandardBasicTypes;

/**
 * The trust bundles' store: the only class with SQL on {@code trust_bundle} and {@code trust_bundle_signature} (the
 * trust keys' is {@link TrustKeys}). Rows are read by column name into records. It also serves signed bundles: the
 * current one per issuer is held in memory and dropped on every change of the issuer (the outbox follower calls
 * {@link #invalidate}, also for other instances' signatures); earlier ones are read from the database, byte for byte
 * as first signed. No HSM call here: signing happens in {@link TrustBundleSigner} and {@link TrustKeyRotations}.
 * Every method joins the caller's transaction.
 */
@ApplicationScoped
public class TrustBundleStore extends IssuerCache<TrustBundleStore.Served> {

    @Inject
    EntityManager em;

    @Inject
    Clock clock;

    /** One signed bundle: the compact JWS bytes, a strong ETag over them, and its exp. */
    public record Served(long sequence, byte[] body, String etag, Instant exp) {

        static Served of(long sequence, String jws, Instant exp) {
            byte[] b = jws.getBytes(StandardCharsets.US_ASCII);
            return new Served(sequence, b, "\"" + digest(b) + "\"", exp);
        }
    }

    /** What a lookup found: the issuer may be unknown, or known with nothing signed yet. */
    public enum Lookup {
        FOUND,
        NO_ISSUER,
        NOT_SIGNED
    }

    public record Result(Lookup lookup, Served served) {}

    /** An issuer's newest bundle as staged: what the next one is compared with. */
    public record Latest(long sequence, String contentDigest, String content) {}

    /** A bundle by its key. */
    public record BundleRef(String issuerId, long sequence) {}

    /** An issuer's oldest unsigned bundle, its row locked. */
    public record Unsigned(long sequence, String content, Long rollbackOf) {}

    /** A signed bundle to sign again, its row locked: its content, its previous, and its latest signature's exp. */
    public record Resignable(String content, String previous, Instant latestExp) {}

    /** An issuer's newest signed bundle, its row locked, with its latest signature's iat. */
    public record NewestSigned(String issuerId, long sequence, String content, String previous, Instant latestIat) {}

    /** The policy values a bundle was computed from, for a rollback to it; {@code audiences} is a JSON array. */
    public record RollbackTarget(String content, String audiences, String algorithm) {}

    /** The cached current bundle, if held and not expired. */
    public Optional<Served> cached(String issuerId) {
        Served s = peek(issuerId);
        return s != null && clock.instant().isBefore(s.exp()) ? Optional.of(s) : Optional.empty();
    }

    /** The newest signed bundle in its latest signature. Blocking. */
    public Result current(String issuerId) {
        long generation = generation(issuerId);
        Result r = QuarkusTransaction.joiningExisting().call(() -> {
            if (!issuerExists(issuerId)) {
                return new Result(Lookup.NO_ISSUER, null);
            }
            List<Served> rows = rows(
                    em.createNativeQuery(
                                    "select sequence, jws, exp from trust_bundle_signature"
                                            + " where issuer_id = ?1 order by sequence desc, id desc limit 1",
                                    Tuple.class)
                            .setParameter(1, issuerId),
                    TrustBundleStore::served);
            return rows.isEmpty() ? new Result(Lookup.NOT_SIGNED, null) : new Result(Lookup.FOUND, rows.get(0));
        });
        if (r.served() != null) {
            store(issuerId, generation, r.served());
        }
        return r;
    }

    /** Bundle {@code sequence} as first signed. Blocking. */
    public Result at(String issuerId, long sequence) {
        return QuarkusTransaction.joiningExisting().call(() -> {
            if (!issuerExists(issuerId)) {
                return new Result(Lookup.NO_ISSUER, null);
            }
            List<Served> rows = rows(
                    em.createNativeQuery(
                                    "select sequence, jws, exp from trust_bundle_signature"
                                            + " where issuer_id = ?1 and sequence = ?2 order by id limit 1",
                                    Tuple.class)
                            .setParameter(1, issuerId)
                            .setParameter(2, sequence),
                    TrustBundleStore::served);
            return rows.isEmpty() ? new Result(Lookup.NOT_SIGNED, null) : new Result(Lookup.FOUND, rows.get(0));
        });
    }

    /** A plain lookup of the issuer row, through its entity. */
    private static boolean issuerExists(String issuerId) {
        return IssuerEntity.count("id", issuerId) > 0;
    }

    // --- trust_bundle ---

    /** The issuer's newest bundle, signed or not. */
    public Optional<Latest> latest(String issuerId) {
        return rows(
                        em.createNativeQuery(
                                        "select sequence, content_digest, content from trust_bundle"
                                                + " where issuer_id = ?1 order by sequence desc limit 1",
                                        Tuple.class)
                                .setParameter(1, issuerId),
                        TrustBundleStore::latestRow)
                .stream()
                .findFirst();
    }

    /** Stages a bundle (unsigned): the row the signer picks up once the caller's transaction commits. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void insert(
            String issuerId,
            long sequence,
            BundleContent.Content content,
            String audiencesJson,
            String algorithm,
            Long rollbackOf,
            boolean revokes,
            Instant computedAt) {
        em.createNativeQuery(
                        "insert into trust_bundle (issuer_id, sequence, content, content_digest, audiences,"
                                + " algorithm, rollback_of, revokes, computed_at) values (?1, ?2, ?3, ?4, cast(?5 as jsonb), ?6, ?7, ?8, ?9)")
                .setParameter(1, issuerId)
                .setParameter(2, sequence)
                .setParameter(3, content.canonical())
                .setParameter(4, content.digest())
                .setParameter(5, audiencesJson)
                .setParameter(6, algorithm)
                .setParameter(7, new TypedParameterValue<>(StandardBasicTypes.LONG, rollbackOf))
                .setParameter(8, revokes)
                .setParameter(9, Timestamp.from(computedAt))
                .executeUpdate();
    }

    /**
     * Issuers with a bundle unsigned and staged at least {@code grace} ago, those with a revocation waiting first,
     * then the longest waiting.
     */
    public List<String> issuersWithUnsigned(Duration grace) {
        return rows(
                em.createNativeQuery(
                                "select issuer_id from trust_bundle where first_signed_at is null"
                                        + " and staged_at <= clock_timestamp() - ?1 * interval '1 millisecond'"
                                        + " group by issuer_id order by bool_or(revokes) desc, min(staged_at), issuer_id",
                                Tuple.class)
                        .setParameter(1, grace.toMillis()),
                t -> t.get("issuer_id", String.class));
    }

    /** How many bundles wait for their first signature. */
    public long unsignedCount() {
        return count(em.createNativeQuery(
                "select count(*) as n from trust_bundle where first_signed_at is null", Tuple.class));
    }

    /** Each issuer's newest bundle, if signed, whose latest signature expires at or before {@code horizon}. */
    public List<BundleRef> dueForResigning(Instant horizon) {
        return rows(
                em.createNativeQuery(
                                "select b.issuer_id, b.sequence from trust_bundle b"
                                        + " join lateral (select s.exp from trust_bundle_signature s where s.issuer_id = b.issuer_id"
                                        + " and s.sequence = b.sequence order by s.id desc limit 1) latest on true"
                                        + " where b.first_signed_at is not null"
                                        + " and b.sequence = (select max(m.sequence) from trust_bundle m where m.issuer_id = b.issuer_id)"
                                        + " and latest.exp <= ?1 order by latest.exp",
                                Tuple.class)
                        .setParameter(1, Timestamp.from(horizon)),
                TrustBundleStore::bundleRefRow);
    }

    /** The issuer's oldest unsigned bundle, its row locked (skipped when another signer holds it). */
    @Transactional(Transactional.TxType.MANDATORY)
    public Optional<Unsigned> lockOldestUnsigned(String issuerId) {
        return rows(
                        em.createNativeQuery(
                                        "select sequence, content, rollback_of from trust_bundle"
                                                + " where issuer_id = ?1 and first_signed_at is null order by sequence limit 1 for update skip locked",
                                        Tuple.class)
                                .setParameter(1, issuerId),
                        TrustBundleStore::unsignedRow)
                .stream()
                .findFirst();
    }

    /** A bundle's first signature: its predecessor's digest and when, written once. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void markFirstSigned(String issuerId, long sequence, String previous, Instant at) {
        em.createNativeQuery("update trust_bundle set previous = ?1, first_signed_at = ?2 where issuer_id = ?3"
                        + " and sequence = ?4")
                .setParameter(1, previous)
                .setParameter(2, Timestamp.from(at))
                .setParameter(3, issuerId)
                .setParameter(4, sequence)
                .executeUpdate();
    }

    /** A signed bundle with its latest signature's exp, its row locked until the caller's transaction ends. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Resignable lockForResigning(String issuerId, long sequence) {
        return rows(
                        em.createNativeQuery(
                                        "select b.content, b.previous, (select s.exp from trust_bundle_signature s"
                                                + " where s.issuer_id = b.issuer_id and s.sequence = b.sequence order by s.id desc limit 1) as latest_exp"
                                                + " from trust_bundle b where b.issuer_id = ?1 and b.sequence = ?2 for update",
                                        Tuple.class)
                                .setParameter(1, issuerId)
                                .setParameter(2, sequence),
                        TrustBundleStore::resignableRow)
                .get(0);
    }

    /** How many of the issuer's bundles come after {@code sequence}. */
    public long countNewer(String issuerId, long sequence) {
        return count(em.createNativeQuery(
                        "select count(*) as n from trust_bundle where issuer_id = ?1" + " and sequence > ?2",
                        Tuple.class)
                .setParameter(1, issuerId)
                .setParameter(2, sequence));
    }

    /** Each issuer's newest signed bundle with its latest signature's iat, the bundle rows locked. */
    @Transactional(Transactional.TxType.MANDATORY)
    public List<NewestSigned> lockNewestSigned() {
        return rows(
                em.createNativeQuery(
                        "select b.issuer_id, b.sequence, b.content, b.previous,"
                                + " (select max(s.iat) from trust_bundle_signature s where s.issuer_id = b.issuer_id and s.sequence = b.sequence) as latest_iat"
                                + " from trust_bundle b where b.first_signed_at is not null and b.sequence = (select max(m.sequence)"
                                + " from trust_bundle m where m.issuer_id = b.issuer_id and m.first_signed_at is not null)"
                                + " order by b.issuer_id for update of b",
                        Tuple.class),
                TrustBundleStore::newestSignedRow);
    }

    /** Bundle {@code sequence}'s content and the policy values it was computed from. */
    public Optional<RollbackTarget> rollbackTarget(String issuerId, long sequence) {
        return rows(
                        em.createNativeQuery(
                                        "select content, cast(audiences as text) as audiences, algorithm from trust_bundle"
                                                + " where issuer_id = ?1 and sequence = ?2",
                                        Tuple.class)
                                .setParameter(1, issuerId)
                                .setParameter(2, sequence),
                        TrustBundleStore::rollbackTargetRow)
                .stream()
                .findFirst();
    }

    /** The issuer's newest bundle sequence (the issuer has one). */
    public long newestSequence(String issuerId) {
        Tuple t = (Tuple) em.createNativeQuery(
                        "select max(sequence) as newest from trust_bundle where issuer_id = ?1", Tuple.class)
                .setParameter(1, issuerId)
                .getSingleResult();
        return t.get("newest", Number.class).longValue();
    }

    // --- trust_bundle_signature ---

    /** The compact JWS of a bundle as first signed, or null while it is unsigned. */
    public String firstJws(String issuerId, long sequence) {
        List<String> r = rows(
                em.createNativeQuery(
                                "select jws from trust_bundle_signature where issuer_id = ?1"
                                        + " and sequence = ?2 order by id limit 1",
                                Tuple.class)
                        .setParameter(1, issuerId)
                        .setParameter(2, sequence),
                t -> t.get("jws", String.class));
        return r.isEmpty() ? null : r.get(0);
    }

    /** Appends a signature of a bundle; {@code coSigner} is the retiring key of a rotation's dual signature. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void insertSignature(
            String issuerId,
            long sequence,
            Instant iat,
            Instant exp,
            TrustKeys.TrustKey key,
            TrustKeys.TrustKey coSigner,
            String jws,
            Instant signedAt) {
        em.createNativeQuery(
                        "insert into trust_bundle_signature (issuer_id, sequence, iat, exp, key_id, co_key_id, jws,"
                                + " signed_at) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
                .setParameter(1, issuerId)
                .setParameter(2, sequence)
                .setParameter(3, Timestamp.from(iat))
                .setParameter(4, Timestamp.from(exp))
                .setParameter(5, key.kid())
                .setParameter(
                        6,
                        new TypedParameterValue<>(StandardBasicTypes.STRING, coSigner == null ? null : coSigner.kid()))
                .setParameter(7, jws)
                .setParameter(8, Timestamp.from(signedAt))
                .executeUpdate();
    }

    // --- rows, by column name ---

    private static Served served(Tuple t) {
        return Served.of(sequence(t), t.get("jws", String.class), BundleContent.instant(t.get("exp")));
    }

    private static Latest latestRow(Tuple t) {
        return new Latest(sequence(t), t.get("content_digest", String.class), t.get("content", String.class));
    }

    private static BundleRef bundleRefRow(Tuple t) {
        return new BundleRef(t.get("issuer_id", String.class), sequence(t));
    }

    private static Unsigned unsignedRow(Tuple t) {
        Number rollbackOf = t.get("rollback_of", Number.class);
        return new Unsigned(
                sequence(t), t.get("content", String.class), rollbackOf == null ? null : rollbackOf.longValue());
    }

    private static Resignable resignableRow(Tuple t) {
        return new Resignable(
                t.get("content", String.class),
                t.get("previous", String.class),
                BundleContent.instant(t.get("latest_exp")));
    }

    private static NewestSigned newestSignedRow(Tuple t) {
        return new NewestSigned(
                t.get("issuer_id", String.class),
                sequence(t),
                t.get("content", String.class),
                t.get("previous", String.class),
                BundleContent.instant(t.get("latest_iat")));
    }

    private static RollbackTarget rollbackTargetRow(Tuple t) {
        return new RollbackTarget(
                t.get("content", String.class), t.get("audiences", String.class), t.get("algorithm", String.class));
    }

    private static long sequence(Tuple t) {
        return t.get("sequence", Number.class).longValue();
    }

    /** Rows read by column name, never by position: a renamed or reordered column fails here, loudly. */
    private static <R> List<R> rows(Query query, Function<Tuple, R> row) {
        List<R> out = new ArrayList<>();
        for (Object o : query.getResultList()) {
            out.add(row.apply((Tuple) o));
        }
        return out;
    }

    private static long count(Query query) {
        return ((Tuple) query.getSingleResult()).get("n", Number.class).longValue();
    }

    private static String digest(byte[] bytes) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(bytes);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(d).substring(0, 27);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
