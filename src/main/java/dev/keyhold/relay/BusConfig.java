package dev.keyhold.relay;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** The revocation bus. The Kafka relay runs only when {@code keyhold.bus.kafka.bootstrap-servers} is set. */
@ConfigMapping(prefix = "keyhold.bus")
public interface BusConfig {

    Kafka kafka();

    interface Kafka {
        /** Comma-separated {@code host:port} list; unset means no relay (events over HTTP only). */
        Optional<String> bootstrapServers();

        @WithDefault("keyhold.events")
        String topic();

        /**
         * Extra producer properties, passed through as they are ({@code keyhold.bus.kafka.properties."sasl.mechanism"=...}),
         * for security and tuning. They cannot weaken delivery: acks, idempotence, in-flight limit and serializers are
         * the relay's.
         */
        Map<String, String> properties();

        /** Most events sent (and acknowledged) per database transaction. */
        @WithDefault("500")
        int batchSize();

        /** How often to look for events committed by other instances; this instance's own commits wake it at once. */
        @WithDefault("PT0.1S")
        Duration pollInterval();

        /** How long the broker may take to acknowledge a batch before the attempt fails and is retried. */
        @WithDefault("PT30S")
        Duration deliveryTimeout();

        Backoff backoff();
    }

    /** Waits between failed attempts: initial, doubled each failure, never more than max. */
    interface Backoff {
        @WithDefault("PT0.5S")
        Duration initial();

        @WithDefault("PT30S")
        Duration max();
    }
}
