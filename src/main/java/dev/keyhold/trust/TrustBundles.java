package dev.keyhold.trust;

import dev.keyhold.audit.RecordedChange;
import dev.keyhold.config.KeyholdConfig;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.store.KeyEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.TransactionSynchronizationRegistry;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Computes an issuer's next trust bundle inside the transaction of every recorded change of that issuer: the one
 * recording path ({@code ChangeRecorder}) fires {@link RecordedChange} synchronously, under the audit chain's lock,
 * so bundles of all issuers are numbered one at a time, each from the state committed before it plus its own
 * transaction's. A bundle is stored only when the trust metadata differs from the issuer's latest bundle (or a
 * rollback asks for one): approvals, denials and other changes that leave keys, audiences, algorithms and status
 * alone publish nothing. Signing happens after commit ({@link TrustBundleSigner}), so an HSM outage never holds up
 * the change itself.
 */
@ApplicationScoped
public class TrustBundles {

    @Inject
    EntityManager em;

    @Inject
    TrustBundleStore store;

    @Inject
    Clock clock;

    @Inject
    KeyholdConfig config;

    @Inject
    TransactionSynchronizationRegistry tx;

    @Inject
    Event<BundleStaged> staged;

    void onRecorded(@Observes RecordedChange change) {
        if (change.issuerId() == null
                || change.action().startsWith("activation.")
                || change.action().startsWith("trust.bundle-")) {
            return;
        }
        stage(change.issuerId());
    }

    /**
     * Makes the next bundle staged for the issuer in this transaction a rollback of {@code toSequence}: it is
     * published even when its content equals the latest bundle's.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public void markRollback(String issuerId, long toSequence) {
        tx.putResource(rollbackKey(issuerId), toSequence);
    }

    /** Stages the issuer's next bundle if its trust metadata changed; returns its sequence. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Optional<Long> stage(String issuerId) {
        em.flush();
        IssuerEntity issuer = em.find(IssuerEntity.class, issuerId);
        if (issuer == null) {
            return Optional.empty();
        }
        var keys = KeyEntity.ofIssuer(issuerId).stream().map(KeyEntity::toKey).toList();
        Optional<TrustBundleStore.Latest> last = store.latest(issuerId);
        long sequence = last.isEmpty() ? 1 : last.get().sequence() + 1;
        Long rollbackOf = (Long) tx.getResource(rollbackKey(issuerId));
        BundleContent.Content content = BundleContent.of(issuer.toIssuer(), keys, refreshHint(), sequence, rollbackOf);
        if (rollbackOf == null && last.isPresent() && last.get().contentDigest().equals(content.digest())) {
            return Optional.empty();
        }
        tx.putResource(rollbackKey(issuerId), null);
        int revokedBefore =
                last.isEmpty() ? 0 : revokedCount(BundleContent.parse(last.get().content()));
        boolean revokes = revokedCount(content.payload()) > revokedBefore;
        store.insert(
                issuerId,
                sequence,
                content,
                Jcs.canonicalize(issuer.audiences),
                issuer.algorithm.name(),
                rollbackOf,
                revokes,
                clock.instant());
        staged.fire(new BundleStaged(issuerId, sequence));
        return Optional.of(sequence);
    }

    long refreshHint() {
        return config.jwks().maxAge().toSeconds();
    }

    private static int revokedCount(Map<String, Object> payload) {
        return ((List<?>) payload.get("revoked")).size();
    }

    private static String rollbackKey(String issuerId) {
        return "keyhold.trust.rollback-of:" + issuerId;
    }
}
