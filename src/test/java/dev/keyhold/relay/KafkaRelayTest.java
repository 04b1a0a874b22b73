package dev.keyhold.relay;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.kafka.KafkaBroker;
import dev.keyhold.testsupport.kafka.KafkaBrokerResource;
import dev.keyhold.testsupport.kafka.KafkaRelayProfile;
import dev.keyhold.testsupport.kafka.TopicTail;
import dev.keyhold.testsupport.kafka.TopicTail.Received;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The relay against a real Kafka broker (a single-node KRaft broker the test suite starts as a child process):
 * every event arrives, in order per issuer, across a broker outage and a Keyhold restart, and a validator can
 * de-duplicate by CloudEvents id.
 */
@QuarkusTest
@TestProfile(KafkaRelayProfile.class)
class KafkaRelayTest {

    private static final Duration DELIVERY = Duration.ofSeconds(60);

    @Inject
    OutboxRelay relay;

    @Inject
    BusConfig config;

    @Inject
    AgroalDataSource ds;

    @Inject
    ChangeRecorder recorder;

    @Inject
    Sql sql;

    @Inject
    Clock clock;

    TopicTail tail;

    @BeforeEach
    void tail() {
        tail = new TopicTail(KafkaBroker.bootstrapServers(), KafkaBrokerResource.TOPIC);
    }

    @AfterEach
    void restore() {
        KafkaBroker.start();
        relay.start();
        tail.close();
    }

    @Test
    void everyEventArrivesOnceInOrderPerIssuerAsStructuredCloudEvents() {
        List<String> issuers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String id = Api.createIssuer("kafka-order");
            Api.rotate(id);
            issuers.add(id);
        }
        for (int n = 0; n < 10; n++) {
            for (String id : issuers) {
                tick(id, n);
            }
        }
        for (String id : issuers) {
            List<Received> got = awaitDelivered(id);
            assertThat(got).as("no duplicates without failures").hasSize(seqs(id).size());
            assertThat(got).extracting(Received::type).containsExactlyElementsOf(types(id));
            assertThat(got).allSatisfy(r -> {
                assertThat(r.contentType()).isEqualTo("application/cloudevents+json; charset=UTF-8");
                assertThat(r.event().get("specversion").asText()).isEqualTo("1.0");
                assertThat(r.event().get("source").asText()).isEqualTo("/issuers/" + id);
            });
            assertThat(got.stream()
                            .filter(r -> r.type().equals("keyhold.key.created"))
                            .findFirst()
                            .orElseThrow()
                            .event()
                            .get("subject")
                            .asText())
                    .isNotBlank();
        }
        assertThat(config.kafka().properties()).containsEntry("linger.ms", "1");

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonPath health = given().get("/q/health/group/relay")
                    .then()
                    .statusCode(200)
                    .extract()
                    .jsonPath();
            assertThat(health.getString("checks.find { it.name == 'kafka-relay' }.status"))
                    .isEqualTo("UP");
            assertThat(health.getString("checks.find { it.name == 'kafka-relay' }.data.state"))
                    .isEqualTo("relaying");
            assertThat(health.getLong("checks.find { it.name == 'kafka-relay' }.data.lagEvents"))
                    .isZero();
        });
        String metrics =
                given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics)
                .contains(
                        "keyhold_relay_events_relayed_total{topic=\"keyhold.events.test\"}",
                        "keyhold_relay_lag_events{topic=\"keyhold.events.test\"}",
                        "keyhold_relay_lag_seconds{",
                        "keyhold_relay_failures_total{");
        assertThat(metric(metrics, "keyhold_relay_events_relayed_total")).isGreaterThanOrEqualTo(4 * 13);
    }

    @Test
    void aBrokerOutageMidStreamLosesNothingAndKeyholdKeepsWorking() throws Exception {
        List<String> issuers = List.of(
                Api.createIssuer("kafka-outage"), Api.createIssuer("kafka-outage"), Api.createIssuer("kafka-outage"));
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger written = new AtomicInteger();
        ExecutorService writer = Executors.newSingleThreadExecutor();
        Future<?> writes = writer.submit(() -> {
            for (int n = 0; writing.get(); n++) {
                tick(issuers.get(n % issuers.size()), n);
                written.incrementAndGet();
                pauseMillis(5);
            }
        });
        try {
            await().atMost(DELIVERY)
                    .until(() ->
                            tail.poll().stream().anyMatch(r -> issuers.get(0).equals(r.key())));
            double failuresBefore = metric(given().get("/q/metrics").asString(), "keyhold_relay_failures_total");

            KafkaBroker.stop();
            int atStop = written.get();
            // Keyhold keeps committing state changes while the bus is down, and stays ready.
            String during = Api.createIssuer("kafka-outage");
            Api.rotate(during);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                JsonPath health = given().get("/q/health/group/relay")
                        .then()
                        .statusCode(200)
                        .extract()
                        .jsonPath();
                assertThat(health.getString("checks.find { it.name == 'kafka-relay' }.status"))
                        .isEqualTo("UP");
                assertThat(health.getString("checks.find { it.name == 'kafka-relay' }.data.state"))
                        .isEqualTo("retrying");
                assertThat(health.getString("checks.find { it.name == 'kafka-relay' }.data.lastError"))
                        .isNotBlank();
                assertThat(health.getLong("checks.find { it.name == 'kafka-relay' }.data.lagEvents"))
                        .isPositive();
            });
            assertThat(written.get()).as("writes went on during the outage").isGreaterThan(atStop);
            assertThat(metric(given().get("/q/metrics").asString(), "keyhold_relay_failures_total"))
                    .isGreaterThan(failuresBefore);
            assertThat(metric(given().get("/q/metrics").asString(), "keyhold_relay_lag_events"))
                    .isPositive();

            KafkaBroker.start();
            int atRestart = written.get();
            await().atMost(DELIVERY).until(() -> written.get() > atRestart + 50);
        } finally {
            writing.set(false);
            writes.get(30, TimeUnit.SECONDS);
            writer.shutdown();
        }
        for (String id : issuers) {
            awaitDelivered(id);
        }
        awaitDelivered(issuers.get(0));
        assertThat(tail.dedupedIds(issuers.get(0)).size()).isGreaterThan(10);
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(given().get("/q/health/group/relay")
                                .jsonPath()
                                .getString("checks.find { it.name == 'kafka-relay' }.data.state"))
                        .isEqualTo("relaying"));
    }

    /**
     * The relay's lag is read from the outbox and the committed position when asked, so it shows within seconds of
     * a broker stop, while the relay's attempt is still blocked waiting for the broker, not only after the attempt
     * has failed (the delivery timeout, 30 s by default).
     */
    @Test
    void lagMetricsGrowWithinSecondsOfABrokerStop() {
        String issuer = Api.createIssuer("kafka-lag");
        Api.rotate(issuer);
        awaitDelivered(issuer);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> metric(given().get("/q/metrics").asString(), "keyhold_relay_lag_events") == 0);

        KafkaBroker.stop();
        for (int n = 0; n < 20; n++) {
            tick(issuer, n);
        }
        // within a few seconds of the change, both gauges show it, and the readiness data agree
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            String m = given().get("/q/metrics").asString();
            assertThat(metric(m, "keyhold_relay_lag_events")).isGreaterThanOrEqualTo(20);
            assertThat(metric(m, "keyhold_relay_lag_seconds")).isPositive();
        });
        double seconds = metric(given().get("/q/metrics").asString(), "keyhold_relay_lag_seconds");
        tick(issuer, 20);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            String m = given().get("/q/metrics").asString();
            assertThat(metric(m, "keyhold_relay_lag_events")).isGreaterThanOrEqualTo(21);
            assertThat(metric(m, "keyhold_relay_lag_seconds")).isGreaterThan(seconds);
        });
        JsonPath health = given().get("/q/health/group/relay")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(health.getLong("checks.find { it.name == 'kafka-relay' }.data.lagEvents"))
                .isGreaterThanOrEqualTo(21);
        assertThat(health.getString("checks.find { it.name == 'kafka-relay' }.data.state"))
                .as("a lone instance is never 'standby'")
                .isIn("relaying", "retrying");

        // and with the relay stopped altogether the lag is still reported (the old gauges showed 0 then)
        relay.stop();
        assertThat(metric(given().get("/q/metrics").asString(), "keyhold_relay_lag_events"))
                .isGreaterThanOrEqualTo(21);
    }

    @Test
    void aRelayThatHasNotFinishedAStepIsStartingNotStandby() {
        RelayStatus fresh = new RelayRun("test-fresh", ds, config.kafka(), clock, new SimpleMeterRegistry()).status();
        assertThat(fresh.starting()).isTrue();
        assertThat(fresh.relaying()).isFalse();
    }

    @Test
    void aRestartedKeyholdResumesFromTheStoredPositionAndResendsWhatItHadNotRecorded() {
        String before = Api.createIssuer("kafka-restart");
        for (int n = 0; n < 20; n++) {
            tick(before, n);
        }
        awaitDelivered(before);
        await().atMost(DELIVERY).until(() -> storedPosition() >= head());

        relay.stop(); // Keyhold goes down: no relay, nothing kept in memory
        String after = Api.createIssuer("kafka-restart");
        Api.rotate(after);
        for (int n = 20; n < 40; n++) {
            tick(before, n);
            tick(after, n);
        }
        long pos = storedPosition();
        long newest = head();
        assertThat(pos).as("nothing relayed while stopped").isLessThan(newest);
        // It crashed after Kafka acknowledged its last 5 events but before it recorded that: they go again.
        sql.exec(
                "update relay_position set last_seq = ? where name = ?", pos - 5, "kafka:" + KafkaBrokerResource.TOPIC);

        relay.start();
        awaitDelivered(before);
        awaitDelivered(after);
        List<Received> all = tail.poll();
        for (long seq = pos - 4; seq <= pos; seq++) {
            long id = seq;
            assertThat(all.stream().filter(r -> r.id() == id).count())
                    .as("event %s sent again", id)
                    .isEqualTo(2);
        }
        for (long seq = pos + 1; seq <= newest; seq++) {
            long id = seq;
            assertThat(all.stream().filter(r -> r.id() == id).count())
                    .as("event %s sent once", id)
                    .isEqualTo(1);
        }
    }

    @Test
    void twoRelaysAtOnceSendEachEventOnceInOrder() throws Exception {
        relay.stop();
        List<String> issuers =
                List.of(Api.createIssuer("kafka-two"), Api.createIssuer("kafka-two"), Api.createIssuer("kafka-two"));
        long start = storedPosition();
        SimpleMeterRegistry m1 = new SimpleMeterRegistry();
        SimpleMeterRegistry m2 = new SimpleMeterRegistry();
        TestBusConfig small = TestBusConfig.of(KafkaBroker.bootstrapServers(), KafkaBrokerResource.TOPIC)
                .withBatchSize(5);
        RelayRun one = new RelayRun("relay-one", ds, small, clock, m1);
        RelayRun two = new RelayRun("relay-two", ds, small, clock, m2);
        one.start();
        two.start();
        ExecutorService writers = Executors.newFixedThreadPool(3);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int w = 0; w < 3; w++) {
                fs.add(writers.submit(() -> {
                    for (int n = 0; n < 40; n++) {
                        tick(issuers.get(n % 3), n);
                    }
                }));
            }
            for (Future<?> f : fs) {
                f.get(60, TimeUnit.SECONDS);
            }
            for (String id : issuers) {
                List<Received> got = awaitDelivered(id);
                assertThat(got).as("each event once").hasSize(seqs(id).size());
            }
            await().atMost(DELIVERY).until(() -> storedPosition() >= head());
            double sent = m1.counter("keyhold.relay.events.relayed", "topic", KafkaBrokerResource.TOPIC)
                            .count()
                    + m2.counter("keyhold.relay.events.relayed", "topic", KafkaBrokerResource.TOPIC)
                            .count();
            assertThat(sent).as("between them the relays sent each event once").isEqualTo((double)
                    sql.count("select count(*) from outbox_event where seq > ? and seq <= ?", start, storedPosition()));
        } finally {
            writers.shutdownNow();
            one.stop();
            two.stop();
        }
    }

    /** Waits until a validator de-duplicating by id has every event of the issuer, and checks their order. */
    private List<Received> awaitDelivered(String issuer) {
        List<Long> expected = seqs(issuer);
        await().atMost(DELIVERY).pollInterval(Duration.ofMillis(50)).until(() -> {
            tail.poll();
            return tail.dedupedIds(issuer).size() >= expected.size();
        });
        assertThat(tail.dedupedIds(issuer))
                .as("events of %s in commit order", issuer)
                .containsExactlyElementsOf(expected);
        List<Received> got = tail.of(issuer);
        assertThat(got)
                .extracting(Received::partition)
                .as("one partition per issuer")
                .containsOnly(got.get(0).partition());
        return got;
    }

    private void tick(String issuer, int n) {
        QuarkusTransaction.requiringNew()
                .run(() -> recorder.record(Change.announced("test.tick", "test", issuer, null, Map.of("n", n))));
    }

    private List<Long> seqs(String issuer) {
        return column("select seq from outbox_event where issuer_id = ? order by seq", "seq", issuer).stream()
                .map(o -> ((Number) o).longValue())
                .toList();
    }

    private List<String> types(String issuer) {
        return column("select type from outbox_event where issuer_id = ? order by seq", "type", issuer).stream()
                .map(String::valueOf)
                .toList();
    }

    private List<Object> column(String query, String label, String arg) {
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement(query)) {
            ps.setString(1, arg);
            List<Object> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getObject(label));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private long storedPosition() {
        Object v = sql.one("select last_seq from relay_position where name = ?", "kafka:" + KafkaBrokerResource.TOPIC);
        return v == null ? 0 : ((Number) v).longValue();
    }

    private long head() {
        return sql.count("select coalesce(max(seq), 0) from outbox_event");
    }

    private static double metric(String prometheus, String name) {
        return prometheus
                .lines()
                .filter(l -> l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }

    private static void pauseMillis(long ms) {
        try {
            Thread.sleep(ms); // paces the event generator; no test waits on time passing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
