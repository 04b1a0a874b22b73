package dev.keyhold.signing;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * Rechecks the approval evidence behind every signing snapshot this instance holds, every
 * {@code keyhold.signing.evidence-recheck-interval} ({@link SigningCache#recheckHeld}). Building a snapshot already
 * verifies it, and any change Keyhold makes drops the snapshot; this catches what no change announces: a write to the
 * database made around Keyhold, noticed within one interval instead of at the issuer's next change or restart.
 */
@ApplicationScoped
public class EvidenceRecheck {

    private static final Logger LOG = Logger.getLogger(EvidenceRecheck.class);

    @Inject
    SigningCache cache;

    @Inject
    MeterRegistry metrics;

    private Timer timer;

    @PostConstruct
    void init() {
        timer = Timer.builder("keyhold.signing.evidence.recheck")
                .description("Time one recheck of the approval evidence behind the held signing snapshots took")
                .register(metrics);
    }

    @Scheduled(
            identity = "keyhold-evidence-recheck",
            every = "${keyhold.signing.evidence-recheck-interval}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            delayed = "30s")
    void onTimer() {
        try {
            timer.record(cache::recheckHeld);
        } catch (RuntimeException e) {
            LOG.warnf("approval evidence recheck failed: %s", e.getMessage());
        }
    }
}
