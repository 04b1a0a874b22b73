package dev.keyhold.activation;

import dev.keyhold.audit.DenialRecorder;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Audits refused dual-control attempts (a custodian of another issuer deciding, a requester approving their own
 * request...). The refused work rolls back; the refusal is recorded afterwards in a transaction of its own so it
 * survives that rollback. Called outside any transaction, so it never waits on locks the refused work held.
 */
@ApplicationScoped
public class Refusals {

    @Inject
    DenialRecorder denials;

    /** Runs {@code work} (a call into a transactional service); a {@link Denied} it throws is recorded, then rethrown. */
    public <T> T audited(Supplier<T> work) {
        try {
            return work.get();
        } catch (Denied d) {
            record(d);
            throw d;
        }
    }

    /** Through the one denial path, which also keeps the 403 mapper from recording the same refusal twice. */
    public void record(Denied d) {
        Map<String, Object> details = new LinkedHashMap<>(d.details());
        details.put("why", d.getMessage());
        denials.denied(d.actor(), d.action(), d.issuerId(), d.kid(), details);
    }
}
