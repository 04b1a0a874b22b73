package dev.keyhold.evidence;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** {@code keyhold.evidence.*}: the issuance ledger and the validators' reports (docs/evidence.md). */
@ConfigMapping(prefix = "keyhold.evidence")
public interface EvidenceConfig {

    Ledger ledger();

    Reports reports();

    /** Largest request body under /v1/evidence/ (up to 1,000 tokens per call); read by BodyLimitFilter. */
    @WithDefault("2M")
    MemorySize maxBodySize();

    interface Ledger {
        /**
         * The longest the writer waits, once it has taken what is queued, for the entries of signatures still under
         * way (group commit). It does not wait when none are, and never for signatures begun after it started waiting.
         */
        @WithDefault("PT0.002S")
        Duration linger();

        /** Most tokens per batch (one transaction). */
        @WithDefault("2000")
        int maxBatch();

        /** Most tokens waiting for the database; beyond it signing is refused (strict) or the entry is lost. */
        @WithDefault("50000")
        int maxPending();

        /** How long a strict signer waits for its batch, and how long a failing batch is retried. */
        @WithDefault("PT5S")
        Duration writeTimeout();

        /** How long tokens stay in the ledger; whole days are dropped once wholly older. */
        @WithDefault("P90D")
        Duration retention();

        /** How often the ledger head is signed (when it moved) and partitions are made ahead and dropped. */
        @WithDefault("PT1M")
        Duration checkpointInterval();

        /** Whether this instance runs the periodic checkpoint and partition maintenance (off in tests). */
        @WithDefault("true")
        boolean maintenance();
    }

    interface Reports {
        /** Reports per second per validator principal (burst: one second's worth, at least one). */
        @WithDefault("5")
        double perPrincipal();

        /** Most tokens in one report (rejected and accepted together). */
        @WithDefault("200")
        int maxTokens();
    }
}
