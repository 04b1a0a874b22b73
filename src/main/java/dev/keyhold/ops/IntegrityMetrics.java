package dev.keyhold.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The shared names of the evidence alarms' counters, so the code that raises an alarm and the alert rules
 * (ops/prometheus/keyhold-rules.yml) cannot drift apart. Prometheus names:
 * {@code keyhold_integrity_violations_total{issuer}} and {@code keyhold_evidence_compromise_suspected_total{issuer}}.
 * A series appears with its first increment (100,000 issuers' worth of zero counters would cost hundreds of MB);
 * the alerts catch a new series as well as an increase.
 */
public final class IntegrityMetrics {

    /** A finding of the checks at use (policy chain, activation evidence, HSM mirror) for one issuer. */
    public static final String INTEGRITY_VIOLATIONS = "keyhold.integrity.violations";
    /** A token that verifies under a Keyhold key but that the issuance ledger does not hold. */
    public static final String COMPROMISE_SUSPECTED = "keyhold.evidence.compromise.suspected";

    private IntegrityMetrics() {}

    public static Counter integrityViolations(MeterRegistry registry, String issuerId) {
        return Counter.builder(INTEGRITY_VIOLATIONS)
                .description(
                        "integrity violations found by the checks at use (policy chain, activation evidence, HSM mirror)")
                .tag("issuer", issuerId)
                .register(registry);
    }

    public static Counter compromiseSuspected(MeterRegistry registry, String issuerId) {
        return Counter.builder(COMPROMISE_SUSPECTED)
                .description("compromise alarms raised: a token signed by a Keyhold key that Keyhold never issued")
                .tag("issuer", issuerId)
                .register(registry);
    }
}
