package dev.keyhold.events;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

@ConfigMapping(prefix = "keyhold.events")
public interface EventsSettings {

    /**
     * How often this instance reads the outbox (one read for everything): caches drop what changes made by other
     * instances touched, and open SSE streams get new events.
     */
    @WithDefault("PT0.2S")
    Duration pollInterval();

    /** A comment line this often keeps idle streams open through proxies and tells clients the server lives. */
    @WithDefault("PT15S")
    Duration heartbeat();
}
