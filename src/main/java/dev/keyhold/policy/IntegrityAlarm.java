package dev.keyhold.policy;

import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * {@code integrity.violation}: stored state that Keyhold's own code cannot have written was found where it would
 * have been used. Raised once per distinct finding per process: an audit record and the outbox event
 * {@code keyhold.integrity.violation} (in a transaction of their own), the counter
 * {@code keyhold_integrity_violations_total{issuer}}, and the finding in the lifecycle health data until a later
 * verification of that issuer passes.
 */
@ApplicationScoped
public class IntegrityAlarm {

    private static final Logger LOG = Logger.getLogger(IntegrityAlarm.class);
    public static final String ACTION = "integrity.violation";

    @Inject
    ChangeRecorder recorder;

    @Inject
    MeterRegistry registry;

    private final Set<String> raised = ConcurrentHashMap.newKeySet();
    private final Map<String, String> current = new ConcurrentHashMap<>();

    /** Call outside any transaction (the record commits on its own). */
    public void raise(String issuerId, String kid, PolicyViolation v) {
        current.put(issuerId, v.code() + ": " + v.getMessage());
        if (!raised.add(issuerId + "|" + v.code() + "|" + v.getMessage())) {
            return;
        }
        LOG.errorf("integrity violation for issuer %s: %s", issuerId, v.getMessage());
        registry.counter("keyhold.integrity.violations", "issuer", issuerId).increment();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("finding", v.code());
        details.put("detail", v.getMessage());
        try {
            QuarkusTransaction.requiringNew()
                    .run(() -> recorder.record(Change.announced(ACTION, "keyhold", issuerId, kid, details)));
        } catch (RuntimeException e) {
            raised.remove(issuerId + "|" + v.code() + "|" + v.getMessage());
            LOG.errorf("integrity violation for issuer %s could not be recorded: %s", issuerId, e.toString());
        }
    }

    /** The issuer verified cleanly: it leaves the health data. */
    public void clear(String issuerId) {
        current.remove(issuerId);
    }

    /** The issuers whose latest verification failed, with the finding. */
    public Map<String, String> findings() {
        return new TreeMap<>(current);
    }
}
