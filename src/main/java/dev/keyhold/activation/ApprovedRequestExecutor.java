package dev.keyhold.activation;

import dev.keyhold.domain.ActivationKind;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.store.ActivationRequestEntity;
import java.time.Instant;

/**
 * Carries out an approved request of a kind owned by a feature above this package (a trust rollback). The feature
 * implements it as a CDI bean; {@link ActivationRequests} finds it by {@link #kind()}, so dual control never depends
 * on the features it guards.
 */
public interface ApprovedRequestExecutor {

    ActivationKind kind();

    /**
     * Runs inside the deciding transaction, issuer and request rows locked by the caller. Returns whether the request
     * was executed; when it no longer holds, the executor cancels it instead and returns false.
     */
    boolean execute(IssuerEntity issuer, ActivationRequestEntity request, String actor, Instant now);
}
