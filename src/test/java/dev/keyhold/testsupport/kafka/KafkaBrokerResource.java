package dev.keyhold.testsupport.kafka;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Path;
import java.util.Map;

/** Starts the test broker for the Kafka test profile and points the relay at it. */
public class KafkaBrokerResource implements QuarkusTestResourceLifecycleManager {

    public static final String TOPIC = "keyhold.events.test";
    public static final int PARTITIONS = 3;

    @Override
    public Map<String, String> start() {
        String servers = KafkaBroker.ensureStarted(Path.of("target/kafka-test"));
        KafkaBroker.createTopic(TOPIC, PARTITIONS);
        return Map.of("keyhold.bus.kafka.bootstrap-servers", servers, "keyhold.bus.kafka.topic", TOPIC);
    }

    @Override
    public void stop() {
        // Frees its memory for the rest of the suite; its data stays, so a later start resumes the same topic.
        KafkaBroker.stop();
    }
}
