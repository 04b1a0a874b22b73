package dev.keyhold.relay;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** A hand-made relay configuration for tests that build a {@link RelayRun} themselves. */
record TestBusConfig(
        String servers, String topic, Map<String, String> properties, int batchSize, Duration deliveryTimeout)
        implements BusConfig.Kafka {

    static TestBusConfig of(String servers, String topic) {
        return new TestBusConfig(servers, topic, Map.of(), 50, Duration.ofSeconds(3));
    }

    TestBusConfig withBatchSize(int n) {
        return new TestBusConfig(servers, topic, properties, n, deliveryTimeout);
    }

    TestBusConfig withProperties(Map<String, String> p) {
        return new TestBusConfig(servers, topic, p, batchSize, deliveryTimeout);
    }

    @Override
    public Optional<String> bootstrapServers() {
        return Optional.of(servers);
    }

    @Override
    public Duration pollInterval() {
        return Duration.ofMillis(20);
    }

    @Override
    public BusConfig.Backoff backoff() {
        return new BusConfig.Backoff() {
            @Override
            public Duration initial() {
                return Duration.ofMillis(50);
            }

            @Override
            public Duration max() {
                return Duration.ofMillis(500);
            }
        };
    }
}
