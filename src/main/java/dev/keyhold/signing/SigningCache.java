package dev.keyhold.signing;

import dev.keyhold.activation.ApprovalEvidence;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import dev.keyhold.error.ProblemException;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerValidator;
import dev.keyhold.jwks.IssuerCache;
import dev.keyhold.policy.IntegrityAlarm;
import dev.keyhold.policy.PolicyViolation;
import dev.keyhold.store.KeyEntity;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * Per-issuer signing snapshots, so the sign path touches no database. {@link dev.keyhold.events.OutboxFollower}
 * drops an issuer's snapshot after a change commits on this instance, and within
 * {@code keyhold.events.poll-interval} of a change made by another instance. A load that raced with an
 * invalidation is used once but not stored. Unknown issuers are not cached, so random ids cannot fill memory.
 *
 * <p>Building a snapshot verifies the issuer's approval evidence ({@link ApprovalEvidence#verifyIssuer}: its policy
 * chain and HSM mirror, the issuer row against the chain head, the ACTIVE key's activation signatures). A snapshot
 * that fails carries the finding, so signing refuses without checking again per token, and the alarm is raised.
 */
@ApplicationScoped
public class SigningCache extends IssuerCache<SigningSnapshot> {

    private static final Logger LOG = Logger.getLogger(SigningCache.class);

    @Inject
    ApprovalEvidence evidence;

    @Inject
    IntegrityAlarm alarm;

    private record Loaded(SigningSnapshot snapshot, PolicyViolation violation, String kid, boolean complete) {}

    /** The issuer's snapshot if it is in memory, else null (never blocks). */
    SigningSnapshot cached(String issuerId) {
        return peek(issuerId);
    }

    /** The issuer's snapshot; 404 for an unknown issuer. May block on a miss (database). */
    SigningSnapshot get(String issuerId) {
        SigningSnapshot s = peek(issuerId);
        if (s != null) {
            return s;
        }
        if (issuerId == null || !IssuerValidator.SLUG.matcher(issuerId).matches()) {
            throw ProblemException.notFound("issuer", issuerId);
        }
        long generation = generation(issuerId);
        Loaded loaded = load(issuerId);
        if (loaded == null) {
            throw ProblemException.notFound("issuer", issuerId);
        }
        return settle(issuerId, generation, loaded);
    }

    /**
     * Checks every snapshot held now against the database and the HSM again, as building it did. A database write
     * moves no outbox event, so nothing drops the snapshot it falsifies; this finds it within one interval of
     * {@link EvidenceRecheck}: the snapshot is replaced by the refusing one and the alarm is raised. A snapshot that
     * still verifies is replaced by the fresh one; one that could not be checked (HSM down, database error) is kept.
     *
     * @return how many snapshots were checked
     */
    public int recheckHeld() {
        int checked = 0;
        int failed = 0;
        for (String issuerId : heldIssuers()) {
            long generation = generation(issuerId);
            if (!holds(issuerId)) {
                continue; // dropped meanwhile: the next request builds and verifies it anyway
            }
            Loaded loaded;
            try {
                loaded = load(issuerId);
            } catch (RuntimeException e) {
                failed++;
                LOG.debugf("issuer %s: approval evidence not rechecked: %s", issuerId, e.toString());
                continue; // kept as it is; the next interval tries again
            }
            if (loaded == null) {
                invalidate(issuerId);
                continue;
            }
            settle(issuerId, generation, loaded);
            checked++;
        }
        if (failed > 0) {
            LOG.warnf("approval evidence of %d issuers could not be rechecked (database or HSM error)", failed);
        }
        return checked;
    }

    /** Reads the issuer and its ACTIVE key and verifies the approval evidence; null for an unknown issuer. */
    private Loaded load(String issuerId) {
        return QuarkusTransaction.joiningExisting().call(() -> {
            IssuerEntity issuer = IssuerEntity.findById(issuerId);
            if (issuer == null) {
                return null;
            }
            KeyEntity row = KeyEntity.inState(issuerId, KeyState.ACTIVE).orElse(null);
            Key active = row == null ? null : row.toKey();
            PolicyViolation violation = null;
            boolean complete = true;
            try {
                complete = evidence.verifyIssuer(issuer, row);
            } catch (PolicyViolation v) {
                violation = v;
            }
            return new Loaded(
                    SigningSnapshot.of(issuer.toIssuer(), active, violation == null ? null : violation.getMessage()),
                    violation,
                    active == null ? null : active.kid(),
                    complete);
        });
    }

    /** Raises or clears the alarm, and keeps the snapshot unless it was checked without the HSM. */
    private SigningSnapshot settle(String issuerId, long generation, Loaded loaded) {
        if (loaded.violation() != null) {
            alarm.raise(issuerId, loaded.kid(), loaded.violation());
        } else {
            alarm.clear(issuerId);
        }
        // A snapshot checked without the HSM (it did not answer) is used once and not cached.
        if (loaded.complete()) {
            store(issuerId, generation, loaded.snapshot());
        }
        return loaded.snapshot();
    }
}
