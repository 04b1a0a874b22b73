package dev.keyhold.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Open event streams share one reader of the outbox ({@link OutboxFollower}): the number of outbox reads per poll
 * interval does not grow with the number of subscribers, and every subscriber still receives every event, once,
 * in order. A stream that starts behind catches up on its own and then joins.
 */
@QuarkusTest
class EventFanOutTest {

    static final int SUBSCRIBERS = 25;

    @Inject
    OutboxReader reader;

    @Inject
    OutboxFollower follower;

    @Inject
    EventsSettings settings;

    @Inject
    Sql sql;

    @TestHTTPResource("/v1/events/stream")
    URL stream;

    @Test
    void manySubscribersCostOneOutboxReadPerPollIntervalAndEachReceivesEveryEventOnceInOrder() throws Exception {
        List<SseClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < SUBSCRIBERS; i++) {
                clients.add(new SseClient(URI.create(stream.toString()), Map.of()));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> follower.subscribers() >= SUBSCRIBERS);

            long readsBefore = reader.reads();
            long start = System.nanoTime();
            List<Long> seqs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                String id = Api.createIssuer("fan");
                seqs.add(sql.count(
                        "select seq from outbox_event where issuer_id = ? and type = 'keyhold.issuer.created'", id));
            }
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> clients.stream().allMatch(c -> c.ids().containsAll(seqs)));
            // Reading per connection (the old way) would cost SUBSCRIBERS reads per interval over this window; the
            // follower costs one (plus the one in flight at each end of the window).
            long reads = reader.reads() - readsBefore;
            double intervals = (System.nanoTime() - start)
                    / (double) settings.pollInterval().toNanos();
            assertThat(reads)
                    .as("outbox reads over %.1f poll intervals with %d subscribers", intervals, SUBSCRIBERS)
                    .isLessThanOrEqualTo((long) Math.ceil(intervals) + 2)
                    .isGreaterThan(0);

            for (SseClient c : clients) {
                List<Long> ids = c.ids();
                assertThat(ids).containsAll(seqs);
                assertThat(ids)
                        .as("each event once, in commit order")
                        .isSorted()
                        .doesNotHaveDuplicates();
            }

            // A late subscriber resuming from before those events reads them itself, then joins the shared feed.
            try (SseClient late = new SseClient(URI.create(stream + "?after=" + (seqs.get(0) - 1)), Map.of())) {
                await().atMost(Duration.ofSeconds(20)).until(() -> late.ids().containsAll(seqs));
                await().atMost(Duration.ofSeconds(20)).until(() -> follower.subscribers() == SUBSCRIBERS + 1);
                String id = Api.createIssuer("fan");
                long next = sql.count(
                        "select seq from outbox_event where issuer_id = ? and type = 'keyhold.issuer.created'", id);
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> late.ids().contains(next)
                                && clients.stream().allMatch(c -> c.ids().contains(next)));
                assertThat(late.ids()).isSorted().doesNotHaveDuplicates();
            }
        } finally {
            clients.forEach(SseClient::close);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> follower.subscribers() == 0);
    }
}
