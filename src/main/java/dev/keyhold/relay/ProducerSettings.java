package dev.keyhold.relay;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The relay's producer configuration. Passed-through properties come first and the delivery guarantees are set
 * last, so no configuration can turn them off: idempotence with acks=all and at most 5 requests in flight keeps
 * each partition's records in send order without duplicates from the producer's own retries, and a
 * transactional id makes each batch visible to read_committed consumers all or nothing (see RelayRun).
 */
final class ProducerSettings {

    static final int MAX_IN_FLIGHT = 5;
    private static final long LINGER_MS = 5;

    private ProducerSettings() {}

    /** {@code clientId} is also the transactional id: unique per relaying instance. */
    static Map<String, Object> of(BusConfig.Kafka kafka, String clientId) {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.LINGER_MS_CONFIG, LINGER_MS);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        p.putAll(kafka.properties());
        long delivery = Math.max(kafka.deliveryTimeout().toMillis(), 1000);
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers().orElseThrow());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE);
        int inFlight = Integer.parseInt(
                String.valueOf(p.getOrDefault(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, MAX_IN_FLIGHT)));
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, Math.max(1, Math.min(inFlight, MAX_IN_FLIGHT)));
        // Kafka requires delivery.timeout >= linger + request.timeout; a failed attempt surfaces within
        // delivery.timeout.
        long linger = Long.parseLong(String.valueOf(p.get(ProducerConfig.LINGER_MS_CONFIG)));
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) delivery);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.max(500, (delivery - linger) / 2));
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, delivery);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, clientId);
        // An instance that dies mid-batch leaves its transaction open; read_committed consumers wait until the
        // coordinator aborts it (or the same instance restarts and fences it), so keep this short.
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) Math.max(10_000, 2 * delivery));
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }
}
