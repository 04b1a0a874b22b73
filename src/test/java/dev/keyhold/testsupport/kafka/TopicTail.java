package dev.keyhold.testsupport.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A validator's view of the topic: every record of every partition from the beginning, in partition order, as a
 * consumer sees them (duplicates included). Not thread-safe; poll from one thread.
 */
public final class TopicTail implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One record as received. */
    public record Received(
            int partition, long offset, String key, String contentType, JsonNode event, Instant receivedAt) {
        public long id() {
            return Long.parseLong(event.get("id").asText());
        }

        public String type() {
            return event.get("type").asText();
        }
    }

    private final KafkaConsumer<String, byte[]> consumer;
    private final List<Received> received = new ArrayList<>();

    public TopicTail(String bootstrapServers, String topic) {
        consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrapServers,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed",
                ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG,
                500));
        List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(p -> new TopicPartition(topic, p.partition()))
                .toList();
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
    }

    /** Polls once (briefly) and returns everything received so far. */
    public List<Received> poll() {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
            Header ct = r.headers().lastHeader("content-type");
            try {
                received.add(new Received(
                        r.partition(),
                        r.offset(),
                        r.key(),
                        ct == null ? null : new String(ct.value(), StandardCharsets.UTF_8),
                        JSON.readTree(r.value()),
                        Instant.now()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return List.copyOf(received);
    }

    /** An issuer's records as one partition delivered them, duplicates included. */
    public List<Received> of(String issuer) {
        return received.stream().filter(r -> issuer.equals(r.key())).toList();
    }

    /** What a validator that de-duplicates by CloudEvents id sees for an issuer: first deliveries, in order. */
    public List<Long> dedupedIds(String issuer) {
        Map<Long, Received> first = new LinkedHashMap<>();
        for (Received r : of(issuer)) {
            first.putIfAbsent(r.id(), r);
        }
        return new ArrayList<>(first.keySet());
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(2));
    }
}
