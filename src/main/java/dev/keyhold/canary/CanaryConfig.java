package dev.keyhold.canary;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** {@code keyhold.canary.*}. */
@ConfigMapping(prefix = "keyhold.canary")
public interface CanaryConfig {

    /** How often the forged-token self-test runs ({@code off} disables the schedule; runOnce still works). */
    @WithDefault("PT5M")
    String interval();
}
