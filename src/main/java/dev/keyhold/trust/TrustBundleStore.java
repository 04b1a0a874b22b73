package dev.keyhold.trust;

import dev.keyhold.jwks.IssuerCache;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * Signed bundles as served. The current one per issuer is held in memory and dropped on every change of the issuer
 * (the outbox follower calls {@link #invalidate}, also for other instances' signatures); earlier ones are read from
 * the database, byte for byte as first signed.
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
            @SuppressWarnings("unchecked")
            List<Object[]> rows = em.createNativeQuery("select sequence, jws, exp from trust_bundle_signature"
                            + " where issuer_id = ?1 order by sequence desc, id desc limit 1")
                    .setParameter(1, issuerId)
                    .getResultList();
            return rows.isEmpty() ? new Result(Lookup.NOT_SIGNED, null) : new Result(Lookup.FOUND, served(rows.get(0)));
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
            @SuppressWarnings("unchecked")
            List<Object[]> rows = em.createNativeQuery("select sequence, jws, exp from trust_bundle_signature"
                            + " where issuer_id = ?1 and sequence = ?2 order by id limit 1")
                    .setParameter(1, issuerId)
                    .setParameter(2, sequence)
                    .getResultList();
            return rows.isEmpty() ? new Result(Lookup.NOT_SIGNED, null) : new Result(Lookup.FOUND, served(rows.get(0)));
        });
    }

    private boolean issuerExists(String issuerId) {
        return !em.createNativeQuery("select 1 from issuer where id = ?1")
                .setParameter(1, issuerId)
                .getResultList()
                .isEmpty();
    }

    private static Served served(Object[] row) {
        return Served.of(((Number) row[0]).longValue(), (String) row[1], BundleContent.instant(row[2]));
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
