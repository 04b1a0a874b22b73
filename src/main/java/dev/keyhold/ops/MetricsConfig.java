package dev.keyhold.ops;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** {@code keyhold.metrics.*}: the operations view behind the keyhold_issuer_* gauges ({@link OperationsMetrics}). */
@ConfigMapping(prefix = "keyhold.metrics")
public interface MetricsConfig {

    /** Whether the view is rebuilt on a schedule (tests rebuild it themselves). */
    @WithDefault("true")
    boolean enabled();

    /** How often the view is rebuilt (read by the @Scheduled expression). */
    @WithDefault("30s")
    String refreshInterval();
}
