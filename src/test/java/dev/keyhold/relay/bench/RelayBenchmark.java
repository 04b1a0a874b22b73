package dev.keyhold.relay.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.relay.OutboxRelay;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.kafka.KafkaBroker;
import dev.keyhold.testsupport.kafka.KafkaBrokerResource;
import dev.keyhold.testsupport.kafka.KafkaRelayProfile;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Relay benchmark (docs/benchmarks.md, "Kafka relay"). Not part of the normal test run; run it with
 * {@code ./mvnw -B test -DskipEnsure -Dtest=RelayBenchmark -Dbench=relay} (optional {@code -Dbench.rate=1000
 * -Dbench.seconds=30}).
 *
 * <p>Part 1, end-to-end latency: writer threads record changes at a fixed rate through ChangeRecorder (the real
 * recording path: chain lock, audit record, outbox row, commit), the relay ships them, and a read_committed
 * consumer measures consume time minus the event's {@code time} (taken inside the writing transaction just
 * before its commit, so the figure slightly over-states commit → consumer). Part 2, relay throughput: with the
 * relay stopped, a backlog of outbox rows is inserted in bulk, then the time to drain it is measured.
 */
@QuarkusTest
@TestProfile(KafkaRelayProfile.class)
@EnabledIfSystemProperty(named = "bench", matches = "relay")
class RelayBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    ChangeRecorder recorder;
    @Inject
    OutboxRelay relay;
    @Inject
    Sql sql;
    @Inject
    Clock clock;
    @Inject
    io.agroal.api.AgroalDataSource ds;

    @Test
    void relayThroughputAndEndToEndLatency() throws Exception {
        int rate = Integer.getInteger("bench.rate", 1000);
        int seconds = Integer.getInteger("bench.seconds", 30);
        int writers = 4;
        // "recorder": the full recording path (audit chain + outbox); "outbox": the same locked, committed outbox
        // append without the audit record, so the figure is the relay's rather than the audit chain's.
        boolean viaRecorder = "recorder".equals(System.getProperty("bench.writer", "outbox"));
        String issuer = Api.createIssuer("bench");
        Set<Long> expected = ConcurrentHashMap.newKeySet();
        List<Double> latencies = new ArrayList<>();

        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            List<TopicPartition> parts = consumer.partitionsFor(KafkaBrokerResource.TOPIC).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(parts);
            consumer.seekToEnd(parts);
            parts.forEach(consumer::position);

            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(writers);
            List<Future<Integer>> fs = new ArrayList<>();
            long t0 = System.nanoTime();
            long periodNanos = TimeUnit.SECONDS.toNanos(1) * writers / rate;
            for (int w = 0; w < writers; w++) {
                long offset = periodNanos * w / writers;
                fs.add(pool.submit(() -> {
                    int n = 0;
                    long next = t0 + offset;
                    long end = t0 + TimeUnit.SECONDS.toNanos(seconds);
                    while (!stop.get() && next < end) {
                        long wait = next - System.nanoTime();
                        if (wait > 0) {
                            TimeUnit.NANOSECONDS.sleep(wait); // paces the writers at the target rate
                        }
                        int k = n++;
                        if (viaRecorder) {
                            QuarkusTransaction.requiringNew().call(() -> recorder.record(
                                    Change.announced("bench.tick", "bench", issuer, null, Map.of("n", k))));
                        } else {
                            appendLikeTheRecorder(issuer, k);
                        }
                        next += periodNanos;
                    }
                    return n;
                }));
            }
            int received = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds + 60L);
            int written = -1;
            double writeSeconds = 0;
            Instant firstReceived = null;
            Instant lastReceived = null;
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(20))) {
                    Instant now = clock.instant();
                    if (!issuer.equals(r.key())) {
                        continue;
                    }
                    JsonNode e = JSON.readTree(r.value());
                    if (!"keyhold.bench.tick".equals(e.get("type").asText())) {
                        continue;
                    }
                    if (expected.add(Long.parseLong(e.get("id").asText()))) {
                        latencies.add(Duration.between(Instant.parse(e.get("time").asText()), now).toNanos() / 1e6);
                        received++;
                        firstReceived = firstReceived == null ? now : firstReceived;
                        lastReceived = now;
                    }
                }
                if (written < 0 && fs.stream().allMatch(Future::isDone)) {
                    writeSeconds = (System.nanoTime() - t0) / 1e9;
                    written = 0;
                    for (Future<Integer> f : fs) {
                        written += f.get();
                    }
                }
                if (written >= 0 && received >= written) {
                    break;
                }
            }
            stop.set(true);
            pool.shutdownNow();
            double elapsed = (System.nanoTime() - t0) / 1e9;
            double[] l = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            String e2e = String.format(Locale.ROOT,
                    "end-to-end (%s writers): target %d ev/s for %d s, written %d in %.1f s (%.0f ev/s achieved), received %d;"
                            + " latency ms p50 %.1f p95 %.1f p99 %.1f max %.1f; consume span %.1f s",
                    viaRecorder ? "ChangeRecorder" : "outbox-append", rate, seconds, written, writeSeconds,
                    written / writeSeconds, received, pct(l, 50), pct(l, 95), pct(l, 99),
                    l.length == 0 ? 0 : l[l.length - 1],
                    firstReceived == null ? 0 : Duration.between(firstReceived, lastReceived).toMillis() / 1000.0);
            String drain = drainThroughput(issuer, 20_000);
            report(e2e + "\n" + drain + "\nelapsed " + String.format(Locale.ROOT, "%.1f s", elapsed));
            assertThat(received).isEqualTo(written);
            assertThat(pct(l, 99)).isLessThan(500);
        }
    }

    /** What ChangeRecorder does for the outbox: under the chain lock, so sequence order is commit order. */
    private void appendLikeTheRecorder(String issuer, int n) throws java.sql.SQLException {
        try (java.sql.Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (java.sql.PreparedStatement lock = c.prepareStatement("select pg_advisory_xact_lock(?)");
                 java.sql.PreparedStatement ins = c.prepareStatement("insert into outbox_event"
                         + " (seq, type, source, issuer_id, subject, event_time, data)"
                         + " values (nextval('outbox_event_seq'), 'keyhold.bench.tick', ?, ?, null, ?, ?)")) {
                lock.setLong(1, 0x4b6579686f6c64L);
                lock.executeQuery().close();
                ins.setString(1, "/issuers/" + issuer);
                ins.setString(2, issuer);
                ins.setTimestamp(3, java.sql.Timestamp.from(clock.instant()));
                ins.setString(4, "{\"n\":" + n + "}");
                ins.executeUpdate();
            }
            c.commit();
        }
        relay.current().ifPresent(r -> r.wake()); // what the recorder's after-commit event does
    }

    /** Relay throughput on its own: a bulk backlog in the outbox, drained by the relay with the producer's batching. */
    private String drainThroughput(String issuer, int n) {
        relay.stop();
        sql.exec("insert into outbox_event (seq, type, source, issuer_id, subject, event_time, data)"
                + " select nextval('outbox_event_seq'), 'keyhold.bench.backlog', ?, ?, null, now(), '{\"n\":1}'"
                + " from generate_series(1, ?)", "/issuers/" + issuer, issuer, n);
        long head = sql.count("select max(seq) from outbox_event");
        long t = System.nanoTime();
        relay.start();
        String name = "kafka:" + KafkaBrokerResource.TOPIC;
        while (sql.count("select last_seq from relay_position where name = ?", name) < head) {
            if (System.nanoTime() - t > TimeUnit.SECONDS.toNanos(120)) {
                throw new AssertionError("backlog not drained in 120 s");
            }
            try {
                Thread.sleep(10); // polls the stored position
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        double s = (System.nanoTime() - t) / 1e9;
        return String.format(Locale.ROOT, "drain: %d backlog events relayed (acknowledged, position stored) in %.2f s = %.0f ev/s",
                n, s, n / s);
    }

    private static KafkaConsumer<String, byte[]> consumer() {
        return new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaBroker.bootstrapServers(),
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10));
    }

    private static double pct(double[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    private static void report(String text) throws IOException {
        System.out.println("[relay-bench] " + text.replace("\n", "\n[relay-bench] "));
        Path out = Path.of("target/relay-bench.txt");
        Files.writeString(out, Instant.now() + "\n" + text + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        assertThat(Arrays.asList(text.split("\n"))).isNotEmpty();
    }
}
