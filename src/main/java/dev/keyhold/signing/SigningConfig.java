package dev.keyhold.signing;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** {@code keyhold.signing.*}: limits of {@code POST /v1/issuers/{id}/sign}. */
@ConfigMapping(prefix = "keyhold.signing")
public interface SigningConfig {

    RateLimit rateLimit();

    Executor executor();

    /**
     * How often {@link EvidenceRecheck} verifies again the approval evidence behind the held signing snapshots (a
     * duration, or {@code off}); read by its {@code @Scheduled} expression.
     */
    @WithDefault("PT5M")
    String evidenceRecheckInterval();

    /**
     * The HSM threads of the sign path ({@link SigningExecutor}): {@code threads} signatures at once (0 = one per
     * CPU), and up to {@code queue} more waiting in arrival order; beyond that a request is refused with 503 and
     * {@code Retry-After}.
     */
    interface Executor {
        @WithDefault("0")
        int threads();

        @WithDefault("1024")
        int queue();
    }

    /**
     * Token buckets held in memory by each instance (so N instances allow N times the rate): each refills at
     * the configured requests per second and holds one second's worth as burst. 0 switches a limit off.
     */
    interface RateLimit {
        @WithDefault("5000")
        double perIssuer();

        @WithDefault("5000")
        double perPrincipal();
    }
}
