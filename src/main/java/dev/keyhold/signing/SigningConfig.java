package dev.keyhold.signing;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** {@code keyhold.signing.*}: limits of {@code POST /v1/issuers/{id}/sign}. */
@ConfigMapping(prefix = "keyhold.signing")
public interface SigningConfig {

    RateLimit rateLimit();

    /**
     * Threads that run HSM signatures for the sign route (a dedicated pool, first come first served): about as many
     * as the HSM can sign in parallel; more only add context switches and tail latency (SoftHSM2 on 2 cores: 2
     * threads gave ES256 ~20% more tokens/s than 3 or 4 and RS256 p99 25 ms instead of 33-43 ms). 0: the CPU
     * count, right for a software token; a network HSM with its own cores wants more.
     */
    @WithDefault("0")
    int workers();

    /**
     * Whether the HTTP event loops run under Linux's {@code SCHED_BATCH} policy, so that their wake-ups do not
     * preempt a signature in progress ({@link EventLoopScheduling}). Ignored elsewhere than on Linux.
     */
    @WithDefault("true")
    boolean batchEventLoops();

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
