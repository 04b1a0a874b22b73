package dev.keyhold.testsupport.kafka;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.List;
import java.util.Map;

/** Keyhold with the Kafka relay on, against the broker {@link KafkaBrokerResource} starts. */
public class KafkaRelayProfile implements QuarkusTestProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        // a passthrough producer property, to show the mapping takes dotted Kafka names
        return Map.of("keyhold.bus.kafka.properties.\"linger.ms\"", "1");
    }

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(KafkaBrokerResource.class));
    }
}
