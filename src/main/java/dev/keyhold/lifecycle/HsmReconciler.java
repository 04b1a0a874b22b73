package dev.keyhold.lifecycle;

import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.command.LifecycleCommands;
import dev.keyhold.config.KeyholdConfig;
import dev.keyhold.domain.KeyState;
import dev.keyhold.hsm.HsmException;
import dev.keyhold.hsm.HsmObjectMissingException;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.key.KeyHandles;
import dev.keyhold.store.IssuerStore;
import dev.keyhold.store.IssuerStore.PartitionKey;
import dev.keyhold.store.KeyEntity;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Keeps the HSM and the key rows reconciled across crashes (SPEC invariant 6), at start and every
 * {@code keyhold.reconcile.interval}:
 * <ul>
 *   <li>an HSM object with Keyhold's handle prefix and no key row (a crash between HSM generation and commit) is
 *   remembered when first seen and destroyed once {@code keyhold.reconcile.orphan-grace} has passed, with the
 *   audit record {@code hsm.orphan-destroyed}. It is claimed in one transaction and destroyed after that commit (no HSM
 *   call runs inside a transaction); a crash in between leaves it to be found again and destroyed a grace later;</li>
 *   <li>a key that can no longer sign (RETIRED, REVOKED, DESTROYED) whose private key object is still in the HSM (a
 *   crash between the commit that moved it and the deletion after it, see {@code command/HsmAfterCommit}) loses it
 *   now (SPEC invariant 9), with the audit record {@code hsm.private-key-destroyed}; a DESTROYED key whose public
 *   object is still there loses that too ({@code hsm.remains-destroyed});</li>
 *   <li>a key row whose HSM object is gone gets {@code hsm_missing_at}, the audit record and event
 *   {@code keyhold.key.hsm-missing}, and shows on health and metrics. For a PENDING or ACTIVE key that means its
 *   <em>private</em> object is gone, which is never expected (an alarm); for a RETIRED or REVOKED key the private
 *   object is gone on purpose and only a missing public object is reported. Such a key never signs
 *   ({@code Deadlines.canSign}); if it was the ACTIVE key, the sweeper prepares a successor at once.</li>
 * </ul>
 * Objects whose handle lacks {@link KeyHandles#PREFIX} are not Keyhold's and are left alone; so is the audit
 * partition, which holds the audit key and no signing keys.
 */
@ApplicationScoped
public class HsmReconciler {

    private static final Logger LOG = Logger.getLogger(HsmReconciler.class);

    public static final String ACTOR = "keyhold-reconciler";

    /** kh-&lt;issuer&gt;-&lt;16 hex&gt;: see {@link KeyHandles#next}. */
    private static final Pattern HANDLE = Pattern.compile("kh-([a-z0-9][a-z0-9-]{0,62})-[0-9a-f]{16}");

    /**
     * @param privateKeysDestroyed kids of RETIRED, REVOKED or DESTROYED keys whose private object this run destroyed
     * @param remainsDestroyed     kids of DESTROYED keys whose remaining HSM objects this run removed
     */
    public record Report(
            List<String> orphansWaiting,
            List<String> orphansDestroyed,
            List<String> newlyMissing,
            Map<String, String> missing,
            Map<String, String> failedPartitions,
            List<String> privateKeysDestroyed,
            List<String> remainsDestroyed) {}

    @Inject
    HsmPort hsm;

    @Inject
    ReconcileConfig config;

    @Inject
    KeyholdConfig keyhold;

    @Inject
    IssuerService issuers;

    @Inject
    ChangeRecorder recorder;

    @Inject
    LifecycleCommands commands;

    @Inject
    IssuerStore keys;

    @Inject
    HsmOrphanStore orphanRows;

    @Inject
    Clock clock;

    @Inject
    LifecycleStatus status;

    /** The first run comes shortly after start, then one every interval. */
    @Scheduled(
            identity = "keyhold-hsm-reconciler",
            every = "${keyhold.reconcile.interval}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            delayed = "3s")
    void onTimer() {
        if (!config.enabled()) {
            return;
        }
        try {
            reconcileOnce();
        } catch (RuntimeException e) {
            LOG.warnf("HSM reconciliation failed: %s", e.getMessage());
        }
    }

    /**
     * Checks one key at once when signing found its HSM object missing ({@link KeyObjectMissing}), rather than at the
     * next run: a PENDING or ACTIVE key whose private object is gone is marked missing and the alarm raised.
     */
    void onObjectMissing(@jakarta.enterprise.event.ObservesAsync dev.keyhold.hsm.KeyObjectMissing m) {
        try {
            if (QuarkusTransaction.requiringNew().call(() -> markMissing(m.kid(), m.partition(), m.handle()))
                    == MissingOutcome.NEWLY_MISSING) {
                status.keyMissing(m.kid(), m.partition() + "/" + m.handle());
            }
        } catch (RuntimeException e) {
            LOG.warnf("could not check key %s after signing found its HSM object missing: %s", m.kid(), e.getMessage());
        }
    }

    public Report reconcileOnce() {
        List<String> waiting = new ArrayList<>();
        List<String> destroyed = new ArrayList<>();
        List<String> newlyMissing = new ArrayList<>();
        Map<String, String> missing = new LinkedHashMap<>();
        Map<String, String> failed = new LinkedHashMap<>();
        List<String> privateDestroyed = new ArrayList<>();
        List<String> remainsDestroyed = new ArrayList<>();
        for (String partition : new TreeSet<>(hsm.partitions())) {
            if (partition.equals(keyhold.audit().partition())) {
                continue;
            }
            try {
                reconcilePartition(
                        partition, waiting, destroyed, newlyMissing, missing, privateDestroyed, remainsDestroyed);
                status.reconciled(partition);
            } catch (HsmException e) {
                // Nothing is concluded from a partition that does not answer: no orphan, no missing key.
                failed.put(partition, e.getMessage());
                status.partitionFailed(partition, clock.instant(), e.getMessage());
            }
        }
        status.reconcileDone(
                clock.instant(), missing, waiting.size(), privateDestroyed.size() + remainsDestroyed.size());
        return new Report(
                List.copyOf(waiting),
                List.copyOf(destroyed),
                List.copyOf(newlyMissing),
                Map.copyOf(missing),
                Map.copyOf(failed),
                List.copyOf(privateDestroyed),
                List.copyOf(remainsDestroyed));
    }

    private void reconcilePartition(
            String partition,
            List<String> waiting,
            List<String> destroyed,
            List<String> newlyMissing,
            Map<String, String> missing,
            List<String> privateDestroyed,
            List<String> remainsDestroyed) {
        // Rows before objects: a key's HSM object exists before its row commits, so a row read here whose object
        // is absent from the later listing is really missing (or being retired or destroyed: markMissing re-checks).
        Map<String, PartitionKey> rows = QuarkusTransaction.requiringNew().call(() -> keys.keysInPartition(partition));
        Set<String> objects = new HashSet<>();
        for (String h : hsm.list(partition)) {
            if (h.startsWith(KeyHandles.PREFIX)) {
                objects.add(h);
            }
        }
        Set<String> privateObjects = new HashSet<>(hsm.listPrivate(partition));
        Set<String> orphans = new TreeSet<>(objects);
        orphans.removeAll(rows.keySet());
        Instant now = clock.instant();
        QuarkusTransaction.requiringNew().run(() -> orphanRows.remember(partition, orphans, now));
        for (String handle : orphans) {
            Instant firstSeen = QuarkusTransaction.requiringNew().call(() -> claimOrphanIfDue(partition, handle));
            if (firstSeen == null) {
                waiting.add(partition + "/" + handle);
                continue;
            }
            // After the commit that claimed it, outside any transaction and lock.
            String outcome;
            try {
                hsm.destroy(partition, handle);
                outcome = "destroyed";
            } catch (HsmObjectMissingException e) {
                outcome = "already-gone";
            }
            String o = outcome;
            QuarkusTransaction.requiringNew().run(() -> recordOrphanDestroyed(partition, handle, firstSeen, o));
            destroyed.add(partition + "/" + handle);
        }
        for (PartitionKey r : new TreeMap<>(rows).values()) {
            boolean canSign = r.state() == KeyState.PENDING || r.state() == KeyState.ACTIVE;
            if (!canSign && privateObjects.contains(r.hsmHandle())) {
                // Outside any transaction: the move that ended its signing life is committed, so this is always right.
                if (hsm.destroyPrivate(partition, r.hsmHandle())) {
                    QuarkusTransaction.requiringNew()
                            .run(() -> recordFinished("hsm.private-key-destroyed", r, partition));
                    LOG.warnf(
                            "destroyed the private key of %s key %s (%s/%s), left behind by an interrupted %s",
                            r.state(),
                            r.kid(),
                            partition,
                            r.hsmHandle(),
                            r.state() == KeyState.DESTROYED ? "destruction" : "retirement or revocation");
                    privateDestroyed.add(r.kid());
                }
            }
            if (r.state() == KeyState.DESTROYED) {
                if (objects.contains(r.hsmHandle())) {
                    try {
                        hsm.destroy(partition, r.hsmHandle());
                        QuarkusTransaction.requiringNew()
                                .run(() -> recordFinished("hsm.remains-destroyed", r, partition));
                        remainsDestroyed.add(r.kid());
                    } catch (HsmObjectMissingException raced) {
                        // the destruction's own after-commit step got there first
                    }
                }
                continue;
            }
            // PENDING and ACTIVE keys need their private object; RETIRED and REVOKED keys only their public one.
            if (canSign ? privateObjects.contains(r.hsmHandle()) : objects.contains(r.hsmHandle())) {
                continue;
            }
            MissingOutcome m =
                    QuarkusTransaction.requiringNew().call(() -> markMissing(r.kid(), partition, r.hsmHandle()));
            if (m == MissingOutcome.NEWLY_MISSING) {
                newlyMissing.add(r.kid());
            }
            if (m != MissingOutcome.PRESENT) {
                missing.put(r.kid(), partition + "/" + r.hsmHandle());
            }
        }
    }

    /**
     * Claims an orphan for destruction once its grace has passed: returns when it was first seen, or null when it is
     * not due (or no longer an orphan). The orphan's row lock and its deletion here make concurrent reconcilers
     * (several instances) claim it once; the key-row check under it keeps a late commit from losing its key. The
     * caller destroys the object after this transaction has committed.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    Instant claimOrphanIfDue(String partition, String handle) {
        Instant firstSeen = orphanRows.lockFirstSeen(partition, handle).orElse(null);
        if (firstSeen == null) {
            return null;
        }
        Instant now = clock.instant();
        if (now.isBefore(firstSeen.plus(config.orphanGrace()))) {
            return null;
        }
        boolean hasRow = keys.hasKeyAt(partition, handle);
        orphanRows.forget(partition, handle);
        return hasRow ? null : firstSeen;
    }

    /** The audit record of a destroyed orphan, written after the destruction. */
    @Transactional(Transactional.TxType.MANDATORY)
    void recordOrphanDestroyed(String partition, String handle, Instant firstSeen, String outcome) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("partition", partition);
        details.put("handle", handle);
        details.put("firstSeenAt", firstSeen.toString());
        details.put("hsmObject", outcome);
        recorder.record(
                Change.auditOnly("hsm.orphan-destroyed", ACTOR, Change.SUCCESS, issuerOf(handle), null, details));
        LOG.infof("destroyed orphan HSM object %s/%s (first seen %s)", partition, handle, firstSeen);
    }

    /** The audit record of an HSM deletion the reconciler finished for a key that can no longer sign. */
    @Transactional(Transactional.TxType.MANDATORY)
    void recordFinished(String action, PartitionKey r, String partition) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("partition", partition);
        details.put("handle", r.hsmHandle());
        details.put("state", r.state().name());
        recorder.record(Change.auditOnly(action, ACTOR, Change.SUCCESS, r.issuerId(), r.kid(), details));
    }

    enum MissingOutcome {
        PRESENT,
        ALREADY_MISSING,
        NEWLY_MISSING
    }

    /**
     * Marks a key whose HSM object is gone, after checking again under the issuer lock with the state as it is now:
     * a key retired, revoked or destroyed since the rows were read lost its private object on purpose.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    MissingOutcome markMissing(String kid, String partition, String handle) {
        KeyEntity known = KeyEntity.findByKid(kid).orElse(null);
        if (known == null) {
            return MissingOutcome.PRESENT;
        }
        IssuerEntity issuer = issuers.lock(known.issuerId);
        KeyEntity k = KeyEntity.lockByKid(kid).orElseThrow();
        if (k.state == KeyState.DESTROYED) {
            return MissingOutcome.PRESENT;
        }
        if (k.hsmMissingAt != null) {
            return MissingOutcome.ALREADY_MISSING;
        }
        boolean canSign = k.state == KeyState.PENDING || k.state == KeyState.ACTIVE;
        if ((canSign ? hsm.listPrivate(partition) : hsm.list(partition)).contains(handle)) {
            return MissingOutcome.PRESENT;
        }
        commands.apply(issuer, k, k.toKey().hsmMissing(clock.instant()), ACTOR);
        LOG.errorf(
                "HSM %s of %s key %s (issuer %s, %s/%s) is missing; the key will not sign",
                canSign ? "private key object" : "object", k.state, kid, k.issuerId, partition, handle);
        return MissingOutcome.NEWLY_MISSING;
    }

    static String issuerOf(String handle) {
        var m = HANDLE.matcher(handle);
        return m.matches() ? m.group(1) : null;
    }
}
