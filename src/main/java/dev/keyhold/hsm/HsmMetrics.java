package dev.keyhold.hsm;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * HSM call latency and failures per partition: {@code keyhold_hsm_latency_seconds{partition,operation}} (a
 * Prometheus histogram with fixed buckets, so its size does not depend on traffic) and
 * {@code keyhold_hsm_errors_total{partition,operation,kind}}. Partitions and operations are fixed by
 * configuration and code, so the series are bounded.
 */
final class HsmMetrics {

    static final HsmMetrics NONE = new HsmMetrics(null);

    /** From a SoftHSM2 ECDSA signature (tens of µs) to a network HSM timing out. */
    private static final Duration[] BUCKETS = {
        Duration.ofNanos(50_000),
        Duration.ofNanos(100_000),
        Duration.ofNanos(250_000),
        Duration.ofNanos(500_000),
        Duration.ofMillis(1),
        Duration.ofMillis(2),
        Duration.ofMillis(5),
        Duration.ofMillis(10),
        Duration.ofMillis(25),
        Duration.ofMillis(50),
        Duration.ofMillis(100),
        Duration.ofMillis(250),
        Duration.ofMillis(500),
        Duration.ofSeconds(1),
        Duration.ofSeconds(2),
        Duration.ofSeconds(5),
        Duration.ofSeconds(10)
    };

    private final MeterRegistry registry;
    private final ConcurrentMap<String, Timer> timers = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Counter> errors = new ConcurrentHashMap<>();

    HsmMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void record(String partition, String operation, long nanos, HsmException failure) {
        if (registry == null) {
            return;
        }
        timers.computeIfAbsent(
                        partition + '\0' + operation,
                        k -> Timer.builder("keyhold.hsm.latency")
                                .description("time of one HSM call, retries and reconnection included")
                                .tag("partition", partition)
                                .tag("operation", operation)
                                .serviceLevelObjectives(BUCKETS)
                                .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
        if (failure != null) {
            String kind = kind(failure);
            errors.computeIfAbsent(
                            partition + '\0' + operation + '\0' + kind,
                            k -> Counter.builder("keyhold.hsm.errors")
                                    .description(
                                            "HSM calls that failed, by kind (unavailable, authentication, missing, operation)")
                                    .tag("partition", partition)
                                    .tag("operation", operation)
                                    .tag("kind", kind)
                                    .register(registry))
                    .increment();
        }
    }

    static String kind(HsmException e) {
        if (e instanceof HsmUnavailableException) {
            return "unavailable";
        }
        if (e instanceof HsmAuthenticationException) {
            return "authentication";
        }
        if (e instanceof HsmObjectMissingException) {
            return "missing";
        }
        return "operation";
    }
}
