package dev.keyhold.command;

import dev.keyhold.hsm.HsmObjectMissingException;
import dev.keyhold.hsm.HsmPort;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;
import org.jboss.logging.Logger;

/**
 * HSM deletions that follow a recorded key move, run after the transaction that records the move has committed:
 * never inside a transaction and never under a row lock, so a slow or hung HSM cannot hold an issuer's lock, and a
 * rolled-back move deletes nothing.
 * <ul>
 *   <li>RETIRED or REVOKED: the private key object goes at once (SPEC invariant 9); the public object stays for the
 *   JWKS overlap, verification and audit;</li>
 *   <li>DESTROYED: what remains of the key in the HSM (its public object) goes.</li>
 * </ul>
 * A crash or HSM failure between the commit and the deletion leaves the object behind; the HSM reconciler
 * ({@code lifecycle/HsmReconciler}) finds every RETIRED, REVOKED or DESTROYED key whose objects are still there and
 * finishes the job, with an audit record.
 */
@ApplicationScoped
public class HsmAfterCommit {

    private static final Logger LOG = Logger.getLogger(HsmAfterCommit.class);

    /** What to delete once the move is committed. */
    public enum Deletion {
        PRIVATE_KEY,
        EVERYTHING
    }

    @Inject
    TransactionSynchronizationRegistry transactions;

    @Inject
    HsmPort hsm;

    /** Registers the deletion with the caller's transaction; it runs only if that transaction commits. */
    void afterCommit(String kid, String partition, String handle, Deletion what) {
        transactions.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {}

            @Override
            public void afterCompletion(int status) {
                if (status == Status.STATUS_COMMITTED) {
                    run(kid, partition, handle, what);
                }
            }
        });
    }

    /** Runs one deletion now; failures are logged, never thrown: the move is committed, the reconciler retries. */
    public void run(String kid, String partition, String handle, Deletion what) {
        try {
            if (what == Deletion.PRIVATE_KEY) {
                boolean destroyed = hsm.destroyPrivate(partition, handle);
                LOG.debugf(
                        "private key of %s (%s/%s) %s",
                        kid, partition, handle, destroyed ? "destroyed" : "was already gone");
            } else {
                try {
                    hsm.destroy(partition, handle);
                    LOG.debugf("HSM objects of destroyed key %s (%s/%s) removed", kid, partition, handle);
                } catch (HsmObjectMissingException gone) {
                    LOG.debugf("HSM objects of destroyed key %s (%s/%s) were already gone", kid, partition, handle);
                }
            }
        } catch (RuntimeException e) {
            LOG.warnf(
                    "HSM deletion (%s) of key %s in partition %s failed after its move was committed; the HSM"
                            + " reconciler finishes it: %s",
                    what, kid, partition, e.getMessage());
        }
    }
}
