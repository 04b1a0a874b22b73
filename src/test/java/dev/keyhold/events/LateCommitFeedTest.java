package dev.keyhold.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Sql;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * SPEC "a reader must never miss an event that commits late". Writers record changes concurrently and each lingers
 * a random while AFTER taking its outbox sequence number and BEFORE committing, which is exactly when a plain
 * sequence would let a higher number commit first: a reader that then moved its cursor past it would never see the
 * lower one. ChangeRecorder hands out the number under a transaction-scoped advisory lock held until commit, so
 * numbers become visible in commit order. Checked by mutation: with the number taken before the lock (a plain
 * sequence), the poller skipped late commits and this test failed.
 *
 * <p>The sleeps here are not waiting for time to pass: they stretch the window between sequence and commit to force
 * interleavings.
 */
@QuarkusTest
class LateCommitFeedTest {

    static final int WRITERS = 4;
    static final int PER_WRITER = 15;

    @Inject
    ChangeRecorder recorder;

    @Inject
    EntityManager em;

    @Inject
    Sql sql;

    @TestHTTPResource("/v1/events/stream")
    URL stream;

    @TestHTTPResource("/v1/events")
    URL feed;

    @Test
    void aPollingReaderAndAStreamSeeEveryEventOnceInCommitOrder() throws Exception {
        long start = sql.count("select coalesce(max(seq), 0) from outbox_event");
        String tag = Api.uniqueId("late");
        ConcurrentLinkedQueue<Long> written = new ConcurrentLinkedQueue<>();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS + 1);
        try (SseClient sse = new SseClient(URI.create(stream + "?after=" + start), Map.of())) {
            Future<List<Long>> polled = pool.submit(() -> poll(start, tag, WRITERS * PER_WRITER));
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                writers.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < PER_WRITER; i++) {
                        int n = i;
                        QuarkusTransaction.requiringNew().run(() -> {
                            pause(3);
                            recorder.record(Change.announced(
                                    "test.late-commit", "test", tag, null, Map.of("writer", writer, "n", n)));
                            written.add(((Number) em.createNativeQuery("select currval('outbox_event_seq')")
                                            .getSingleResult())
                                    .longValue());
                            pause(15); // commit late
                        });
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> w : writers) {
                w.get(60, TimeUnit.SECONDS);
            }
            List<Long> seen = polled.get(60, TimeUnit.SECONDS);

            assertThat(seen).as("exactly once, in order").isSorted().doesNotHaveDuplicates();
            assertThat(seen).containsAll(written);
            // nothing missed, ours or anyone else's: the reader saw every committed event in its range
            long last = seen.get(seen.size() - 1);
            assertThat(seen).containsExactlyElementsOf(committed(start, last));

            await().atMost(Duration.ofSeconds(10)).until(() -> sse.ids().containsAll(written));
            assertThat(sse.ids())
                    .isSorted()
                    .doesNotHaveDuplicates()
                    .startsWith(committed(start, last).toArray(Long[]::new));
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Polls the public feed with small pages as a validator would, until every tagged event has been seen. A bare
     * HttpClient rather than RestAssured: polling fast is what gives a late commit the chance to be skipped.
     */
    private List<Long> poll(long start, String tag, int expected) throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        List<Long> seen = new ArrayList<>();
        long cursor = start;
        int mine = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (mine < expected && System.nanoTime() < deadline) {
            var res = http.send(
                    java.net.http.HttpRequest.newBuilder(URI.create(feed + "?after=" + cursor + "&limit=5"))
                            .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isEqualTo(200);
            for (var e : json.readTree(res.body())) {
                long id = Long.parseLong(e.get("id").asText());
                seen.add(id);
                cursor = id;
                if (("/issuers/" + tag).equals(e.get("source").asText())) {
                    mine++;
                }
            }
        }
        return seen;
    }

    private List<Long> committed(long after, long upTo) {
        List<Long> out = new ArrayList<>();
        long cursor = after;
        while (cursor < upTo) {
            Object next = sql.one("select min(seq) from outbox_event where seq > ?", cursor);
            if (next == null) {
                break;
            }
            cursor = ((Number) next).longValue();
            if (cursor <= upTo) {
                out.add(cursor);
            }
        }
        return out;
    }

    private static void pause(int maxMillis) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextInt(maxMillis + 1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
