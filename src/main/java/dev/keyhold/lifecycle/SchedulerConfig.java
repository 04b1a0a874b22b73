package dev.keyhold.lifecycle;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** {@code keyhold.scheduler.*}: Keyhold's own deadline-enforcing sweeper. */
@ConfigMapping(prefix = "keyhold.scheduler")
public interface SchedulerConfig {

    /** Time between sweeps ({@code KEYHOLD_SCHEDULER_INTERVAL}); read by the {@code @Scheduled} expression too. */
    @WithDefault("10S")
    Duration interval();

    /**
     * False turns the timer off (tests call {@link Sweeper#sweepOnce()} after moving the clock). Deadlines still
     * hold at use time without it (SPEC invariant 5); only the recorded states lag.
     */
    @WithDefault("true")
    boolean enabled();
}
