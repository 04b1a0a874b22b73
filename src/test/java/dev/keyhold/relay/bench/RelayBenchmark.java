package dev.keyhold.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Relay benchmark (docs/benchmarks.md, "Kafka relay"). Not part of the normal test run; run it with
 * {@code ./mvnw -B test -DskipEnsure -Dtest=RelayBenchmark -Dbench=relay} (optional {@code -Dbench.rate=1000
 * -Dbench.seconds=30}).
 *
 * <p>Part 1, end-to-end latency: writer threads record changes at a fixed rate through ChangeRecorder (the real
 * recording path: chain lock, audit record, outbox row, commit), the relay ships them, and a read_committed
 * consumer measures consume time minus the event's {@code time} (taken inside the writing transaction just
 * before its commit, so the figure slightly over-states commit → consumer). A warm-up at the same rate
 * ({@code -Dbench.warmup=10} seconds; 0 for none) runs first and must be consumed completely before the measured
 * window starts; it is reported separately and not counted. Latency is also printed by second of the run, split
 * at the relay's send (the record's CreateTime). Part 2, relay throughput: with the
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
        int warmup = Integer.getInteger("bench.warmup", 10);
        // "recorder": the full recording path (audit chain + outbox); "outbox": the same locked, committed outbox
        // append without the audit record, so the figure is the relay's rather than the audit chain's.
        boolean viaRecorder = "recorder".equals(System.getProperty("bench.writer", "outbox"));
        String issuer = Api.createIssuer("bench");

        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            List<TopicPartition> parts = consumer.partitionsFor(KafkaBrokerResource.TOPIC).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition()))
                    .toList();
            consumer.assign(parts);
            consumer.seekToEnd(parts);
            parts.forEach(consumer::position);

            // Warm-up, not counted: the same writers at the same rate until every warm-up event has been consumed.
            // It takes the one-off start-up costs out of the measured window: the relay producer's first
            // InitProducerId (on this fresh broker it creates __transaction_state), the consumer's first fetches,
            // connection pools and JIT in all three JVMs. Its figures are still printed.
            Phase warm = warmup > 0 ? phase(consumer, issuer, "bench.warmup", rate, warmup, viaRecorder) : null;
            Phase m = phase(consumer, issuer, "bench.tick", rate, seconds, viaRecorder);
            double[] l = m.sortedLatencies();
            String e2e = String.format(
                    Locale.ROOT,
                    "end-to-end (%s writers): target %d ev/s for %d s after a %d s warm-up, written %d in %.1f s"
                            + " (%.0f ev/s achieved), received %d; latency ms p50 %.1f p95 %.1f p99 %.1f max %.1f;"
                            + " consume span %.1f s; measured window started %s",
                    viaRecorder ? "ChangeRecorder" : "outbox-append",
                    rate,
                    seconds,
                    warmup,
                    m.written,
                    m.writeSeconds,
                    m.written / m.writeSeconds,
                    m.received(),
                    pct(l, 50),
                    pct(l, 95),
                    pct(l, 99),
                    l.length == 0 ? 0 : l[l.length - 1],
                    m.consumeSpanSeconds(),
                    m.start);
            String warmText = "";
            if (warm != null) {
                double[] w = warm.sortedLatencies();
                warmText = String.format(
                        Locale.ROOT,
                        "warm-up (not counted): written %d, received %d;"
                                + " latency ms p50 %.1f p99 %.1f max %.1f%n%s",
                        warm.written,
                        warm.received(),
                        pct(w, 50),
                        pct(w, 99),
                        w.length == 0 ? 0 : w[w.length - 1],
                        bySecond(warm.timeline));
            }
            String drain = drainThroughput(issuer, 20_000);
            report(warmText + e2e + "\n" + bySecond(m.timeline) + drain);
            assertThat(m.received()).isEqualTo(m.written);
            assertThat(pct(l, 99)).isLessThan(500);
        }
    }

    /** One paced run: what was written, and per consumed event its latency. */
    private static final class Phase {
        final Instant start;
        final Set<Long> seen = ConcurrentHashMap.newKeySet();
        // per event: event time (s since the writers started), latency (ms), and of that the part from the event
        // time to the relay's send (the record's CreateTime, set by the relay's producer; ms resolution)
        final List<double[]> timeline = new ArrayList<>();
        int written = -1;
        double writeSeconds;
        Instant firstReceived;
        Instant lastReceived;

        Phase(Instant start) {
            this.start = start;
        }

        int received() {
            return timeline.size();
        }

        double[] sortedLatencies() {
            return timeline.stream().mapToDouble(t -> t[1]).sorted().toArray();
        }

        double consumeSpanSeconds() {
            return firstReceived == null
                    ? 0
                    : Duration.between(firstReceived, lastReceived).toMillis() / 1000.0;
        }
    }

    /**
     * Writers commit {@code rate} events/s of type {@code keyhold.<action>} for {@code seconds}; the consumer counts
     * each once (by id) and measures consume time − event time, until all of them have arrived (or a deadline).
     */
    private Phase phase(
            KafkaConsumer<String, byte[]> consumer,
            String issuer,
            String action,
            int rate,
            int seconds,
            boolean viaRecorder)
            throws Exception {
        int writers = 4;
        String type = "keyhold." + action;
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        List<Future<Integer>> fs = new ArrayList<>();
        long t0 = System.nanoTime();
        Phase ph = new Phase(clock.instant());
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
                        QuarkusTransaction.requiringNew()
                                .call(() -> recorder.record(
                                        Change.announced(action, "bench", issuer, null, Map.of("n", k))));
                    } else {
                        appendLikeTheRecorder(issuer, type, k);
                    }
                    next += periodNanos;
                }
                return n;
            }));
        }
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds + 60L);
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(20))) {
                    Instant now = clock.instant();
                    if (!issuer.equals(r.key())) {
                        continue;
                    }
                    JsonNode e = JSON.readTree(r.value());
                    if (!type.equals(e.get("type").asText())) {
                        continue;
                    }
                    if (ph.seen.add(Long.parseLong(e.get("id").asText()))) {
                        Instant sent = Instant.parse(e.get("time").asText());
                        ph.timeline.add(new double[] {
                            Duration.between(ph.start, sent).toNanos() / 1e9,
                            Duration.between(sent, now).toNanos() / 1e6,
                            Duration.between(sent, Instant.ofEpochMilli(r.timestamp()))
                                            .toNanos()
                                    / 1e6
                        });
                        ph.firstReceived = ph.firstReceived == null ? now : ph.firstReceived;
                        ph.lastReceived = now;
                    }
                }
                if (ph.written < 0 && fs.stream().allMatch(Future::isDone)) {
                    ph.writeSeconds = (System.nanoTime() - t0) / 1e9;
                    int written = 0;
                    for (Future<Integer> f : fs) {
                        written += f.get();
                    }
                    ph.written = written;
                }
                if (ph.written >= 0 && ph.received() >= ph.written) {
                    break;
                }
            }
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
        return ph;
    }

    /** What ChangeRecorder does for the outbox: under the chain lock, so sequence order is commit order. */
    private void appendLikeTheRecorder(String issuer, String type, int n) throws java.sql.SQLException {
        try (java.sql.Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (java.sql.PreparedStatement lock = c.prepareStatement("select pg_advisory_xact_lock(?)");
                    java.sql.PreparedStatement ins = c.prepareStatement("insert into outbox_event"
                            + " (seq, type, source, issuer_id, subject, event_time, data)"
                            + " values (nextval('outbox_event_seq'), ?, ?, ?, null, ?, ?)")) {
                lock.setLong(1, 0x4b6579686f6c64L);
                lock.executeQuery().close();
                ins.setString(1, type);
                ins.setString(2, "/issuers/" + issuer);
                ins.setString(3, issuer);
                ins.setTimestamp(4, java.sql.Timestamp.from(clock.instant()));
                ins.setString(5, "{\"n\":" + n + "}");
                ins.executeUpdate();
            }
            c.commit();
        }
        relay.current().ifPresent(r -> r.wake()); // what the recorder's after-commit event does
    }

    /** Relay throughput on its own: a bulk backlog in the outbox, drained by the relay with the producer's batching. */
    private String drainThroughput(String issuer, int n) {
        relay.stop();
        sql.exec(
                "insert into outbox_event (seq, type, source, issuer_id, subject, event_time, data)"
                        + " select nextval('outbox_event_seq'), 'keyhold.bench.backlog', ?, ?, null, now(), '{\"n\":1}'"
                        + " from generate_series(1, ?)",
                "/issuers/" + issuer,
                issuer,
                n);
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
        return String.format(
                Locale.ROOT,
                "drain: %d backlog events relayed (acknowledged, position stored) in %.2f s = %.0f ev/s",
                n,
                s,
                n / s);
    }

    private static KafkaConsumer<String, byte[]> consumer() {
        return new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                KafkaBroker.bootstrapServers(),
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG,
                10));
    }

    /** Latency by second of the run (by send time): shows whether the slow events cluster at the start or recur. */
    private static String bySecond(List<double[]> timeline) {
        java.util.TreeMap<Integer, List<double[]>> bins = new java.util.TreeMap<>();
        for (double[] t : timeline) {
            bins.computeIfAbsent((int) Math.floor(t[0]), k -> new ArrayList<>()).add(t);
        }
        StringBuilder b = new StringBuilder();
        bins.forEach((sec, ts) -> {
            double[] l = ts.stream().mapToDouble(t -> t[1]).sorted().toArray();
            double[] toSend = ts.stream().mapToDouble(t -> t[2]).sorted().toArray();
            double[] afterSend =
                    ts.stream().mapToDouble(t -> t[1] - t[2]).sorted().toArray();
            b.append(String.format(
                    Locale.ROOT,
                    "  second %3d: %4d events, latency ms p50 %7.1f p99 %7.1f max %7.1f"
                            + " | commit->send p50 %7.1f max %7.1f | send->consume p50 %7.1f max %7.1f%n",
                    sec,
                    l.length,
                    pct(l, 50),
                    pct(l, 99),
                    l[l.length - 1],
                    pct(toSend, 50),
                    toSend[toSend.length - 1],
                    pct(afterSend, 50),
                    afterSend[afterSend.length - 1]));
        });
        return b.toString();
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
        Files.writeString(
                out, Instant.now() + "\n" + text + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        assertThat(Arrays.asList(text.split("\n"))).isNotEmpty();
    }
}
