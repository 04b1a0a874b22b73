package dev.keyhold.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

class ProducerSettingsTest {

    @Test
    void passesSecuritySettingsThroughButNeverWeakensDelivery() {
        Map<String, Object> p = ProducerSettings.of(
                TestBusConfig.of("b1:9092,b2:9092", "t")
                        .withProperties(Map.of(
                                "security.protocol",
                                "SASL_SSL",
                                "sasl.mechanism",
                                "SCRAM-SHA-512",
                                "acks",
                                "1",
                                "enable.idempotence",
                                "false",
                                "max.in.flight.requests.per.connection",
                                "50",
                                "bootstrap.servers",
                                "elsewhere:1",
                                "value.serializer",
                                "x.Y")),
                "relay-1");
        assertThat(p)
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry(ProducerConfig.ACKS_CONFIG, "all")
                .containsEntry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true)
                .containsEntry(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5)
                .containsEntry(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "b1:9092,b2:9092")
                .containsEntry(ProducerConfig.CLIENT_ID_CONFIG, "relay-1")
                .containsEntry(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "relay-1");
        assertThat(p.get(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG)).isNotEqualTo("x.Y");
    }

    @Test
    void aLowerInFlightLimitIsKeptAndTheTimeoutsAreConsistentForKafka() {
        Map<String, Object> p = ProducerSettings.of(
                TestBusConfig.of("b:9092", "t").withProperties(Map.of("max.in.flight.requests.per.connection", "1")),
                "c");
        assertThat(p).containsEntry(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        // Kafka's own validation: delivery.timeout >= linger + request.timeout, idempotence needs in-flight <= 5
        assertThatCode(() -> new ProducerConfig(p)).doesNotThrowAnyException();
        assertThat((Integer) p.get(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG)).isEqualTo(3000);
    }
}
