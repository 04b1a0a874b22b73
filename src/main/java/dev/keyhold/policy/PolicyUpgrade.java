package dev.keyhold.policy;

import dev.keyhold.config.TrustSettings;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.store.IssuerStore;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.LockModeType;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Issuers created by a version of Keyhold without policy chains get a version 1 sealed by the HSM with reason
 * "upgrade" (their custodians and settings as stored then, with any credentials already enrolled). This happens once
 * per HSM: a data object {@value #MARKER} in the trust partition records that the upgrade ran, so an issuer row
 * inserted into the database later never gets a chain this way (it cannot sign). Their ACTIVE keys have no signed
 * activation, so they keep serving their JWKS and sign again once custodians have enrolled (credential bootstrap)
 * and approved a new key with signatures (a rotation).
 */
@ApplicationScoped
public class PolicyUpgrade {

    private static final Logger LOG = Logger.getLogger(PolicyUpgrade.class);
    static final String MARKER = "keyhold-policy-upgrade";

    @Inject
    PolicyChain chain;

    @Inject
    HsmPort hsm;

    @Inject
    IssuerStore issuers;

    @Inject
    TrustSettings trust;

    void onStart(@Observes StartupEvent e) {
        try {
            run();
        } catch (RuntimeException ex) {
            LOG.warnf("policy chain upgrade not done at start: %s", ex.toString());
        }
    }

    public void run() {
        if (!hsm.partitions().contains(trust.partition())) {
            return;
        }
        if (hsm.getData(trust.partition(), MARKER).isPresent()) {
            return;
        }
        List<String> chainless = QuarkusTransaction.requiringNew().call(issuers::withoutPolicyChain);
        for (String id : chainless) {
            QuarkusTransaction.requiringNew().run(() -> {
                IssuerEntity issuer = IssuerEntity.findById(id, LockModeType.PESSIMISTIC_WRITE);
                if (issuer != null && chain.head(id).isEmpty()) {
                    chain.create(issuer, "upgrade");
                    LOG.infof("issuer %s: policy version 1 sealed by the HSM (upgrade)", id);
                }
            });
        }
        hsm.putData(trust.partition(), MARKER, "done".getBytes(StandardCharsets.US_ASCII));
    }
}
