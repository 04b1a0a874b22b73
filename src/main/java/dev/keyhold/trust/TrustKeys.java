package dev.keyhold.trust;

import com.nimbusds.jose.jwk.JWK;
import dev.keyhold.config.TrustSettings;
import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.hsm.PublicJwks;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.Tuple;
import java.security.PublicKey;
import java.sql.Timestamp;
import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Keyhold's trust key: ES256 in the HSM's reserved trust partition, made on first use under a fixed handle, like the
 * audit key. Its public JWK is kept in {@code trust_key}. When a row exists but its HSM object is gone, nothing is
 * generated in its place: a silently new trust anchor would break every validator that pinned the old one.
 */
@ApplicationScoped
public class TrustKeys {

    static final SigningAlgorithm ALG = SigningAlgorithm.ES256;

    @Inject
    HsmPort hsm;

    @Inject
    TrustAnchorDocument anchor;

    @Inject
    EntityManager em;

    @Inject
    Clock clock;

    @Inject
    TrustSettings settings;

    void onStart(@Observes StartupEvent e) {
        try {
            ensure();
        } catch (RuntimeException ex) {
            // Bundles wait unsigned until the trust key can be made; health says so.
            org.jboss.logging.Logger.getLogger(TrustKeys.class)
                    .warnf("trust key not available at start: %s", ex.getMessage());
        }
    }

    public record TrustKey(String kid, String partition, String handle, String state, JWK jwk) {}

    /** The CURRENT trust key, generating it when there is none yet. Blocking; outside any transaction. */
    public TrustKey ensure() {
        Optional<TrustKey> stored = current();
        if (stored.isPresent()) {
            return stored.get();
        }
        String partition = settings.partition();
        String handle = settings.keyHandle();
        if (!hsm.partitions().contains(partition)) {
            throw new IllegalStateException("the trust partition '" + partition + "' is not configured");
        }
        PublicKey pub = hsm.publicKeyOrGenerate(partition, handle, ALG);
        JWK jwk = PublicJwks.of(pub, ALG);
        QuarkusTransaction.requiringNew().run(() -> insert(jwk, partition, handle, "CURRENT"));
        anchor.changing(); // committed: the trust anchor document is read again
        return current().orElseThrow(() -> new IllegalStateException("no CURRENT trust key after generating one"));
    }

    public Optional<TrustKey> current() {
        return anchors().stream().filter(k -> k.state().equals("CURRENT")).findFirst();
    }

    /** CURRENT then NEXT: what validators pin. */
    public List<TrustKey> anchors() {
        return QuarkusTransaction.joiningExisting()
                .call(() -> rows(em.createNativeQuery(
                        COLUMNS + " where state in ('CURRENT', 'NEXT') order by state, created_at", Tuple.class)));
    }

    /** The announced NEXT trust key, if a rotation has made one. */
    public Optional<TrustKey> next() {
        return anchors().stream().filter(k -> k.state().equals("NEXT")).findFirst();
    }

    /** A trust key in any state (RETIRED ones included). */
    public Optional<TrustKey> byKid(String kid) {
        return QuarkusTransaction.joiningExisting()
                .call(() ->
                        rows(em.createNativeQuery(COLUMNS + " where kid = ?1", Tuple.class)
                                        .setParameter(1, kid))
                                .stream()
                                .findFirst());
    }

    /**
     * Records a key the HSM holds, in {@code state} (CURRENT for the first key, NEXT for a rotation's); false when a
     * row for that kid exists already (another instance recorded it first). Runs in the caller's transaction.
     */
    @jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.MANDATORY)
    public boolean insert(JWK jwk, String partition, String handle, String state) {
        return em.createNativeQuery("insert into trust_key (kid, partition_name, hsm_handle, algorithm, public_jwk,"
                                + " state, created_at) values (?1, ?2, ?3, ?4, ?5, ?6, ?7) on conflict do nothing")
                        .setParameter(1, jwk.getKeyID())
                        .setParameter(2, partition)
                        .setParameter(3, handle)
                        .setParameter(4, ALG.name())
                        .setParameter(5, jwk.toJSONString())
                        .setParameter(6, state)
                        .setParameter(7, Timestamp.from(clock.instant()))
                        .executeUpdate()
                == 1;
    }

    /** The CURRENT and NEXT keys' states by kid, their rows locked until the caller's transaction ends. */
    @jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.MANDATORY)
    public Map<String, String> lockAnchorStates() {
        Map<String, String> states = new LinkedHashMap<>();
        for (Object row : em.createNativeQuery(
                        "select kid, state from trust_key where state in ('CURRENT', 'NEXT')"
                                + " order by kid for update",
                        Tuple.class)
                .getResultList()) {
            Tuple t = (Tuple) row;
            states.put(t.get("kid", String.class), t.get("state", String.class));
        }
        return states;
    }

    /** A trust key rotation's step: {@code oldKid} RETIRED as of {@code now}, {@code newKid} CURRENT. */
    @jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.MANDATORY)
    public void promote(String oldKid, String newKid, Instant now) {
        em.createNativeQuery("update trust_key set state = 'RETIRED', retired_at = ?2 where kid = ?1")
                .setParameter(1, oldKid)
                .setParameter(2, Timestamp.from(now))
                .executeUpdate();
        em.createNativeQuery("update trust_key set state = 'CURRENT' where kid = ?1")
                .setParameter(1, newKid)
                .executeUpdate();
    }

    private static final String COLUMNS = "select kid, partition_name, hsm_handle, state, public_jwk from trust_key";

    /** Rows read by column name, never by position: a renamed or reordered column fails here, loudly. */
    private static List<TrustKey> rows(jakarta.persistence.Query query) {
        List<TrustKey> keys = new java.util.ArrayList<>();
        for (Object row : query.getResultList()) {
            Tuple t = (Tuple) row;
            keys.add(new TrustKey(
                    t.get("kid", String.class),
                    t.get("partition_name", String.class),
                    t.get("hsm_handle", String.class),
                    t.get("state", String.class),
                    parse(t.get("public_jwk", String.class))));
        }
        return keys;
    }

    /**
     * Whether {@code key} is still the CURRENT trust key, holding a share lock on its row until the caller's
     * transaction ends: a trust key rotation, which updates that row, waits for signatures in flight, and a signer
     * that comes after it finds the key RETIRED. Lock order: the trust key row before any bundle row.
     */
    @jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.MANDATORY)
    public boolean lockIfCurrent(TrustKey key) {
        return !em.createNativeQuery("select 1 from trust_key where kid = ?1 and state = 'CURRENT' for share")
                .setParameter(1, key.kid())
                .getResultList()
                .isEmpty();
    }

    static JWK parse(String json) {
        try {
            return JWK.parse(json);
        } catch (ParseException e) {
            throw new IllegalStateException("stored trust key is not a JWK", e);
        }
    }
}
