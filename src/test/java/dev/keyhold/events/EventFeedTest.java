package dev.keyhold.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
class EventFeedTest {

    @Inject
    Sql sql;

    @TestHTTPResource("/v1/events/stream")
    URL stream;

    long head() {
        return sql.count("select coalesce(max(seq), 0) from outbox_event");
    }

    @Test
    void theFeedServesCloudEventsInOrderToAnyone() {
        long from = head();
        String id = Api.createIssuer("feed");
        String kid = Api.rotate(id);
        JsonPath feed = Api.anonymous()
                .queryParam("after", from)
                .queryParam("limit", 1000)
                .get("/v1/events")
                .then()
                .statusCode(200)
                .contentType("application/json")
                .extract()
                .jsonPath();
        List<Map<String, Object>> events = feed.getList("$");
        List<Long> ids =
                events.stream().map(e -> Long.parseLong((String) e.get("id"))).toList();
        assertThat(ids).isSorted().doesNotHaveDuplicates().allMatch(s -> s > from);
        Map<String, Object> created = events.stream()
                .filter(e -> e.get("type").equals("keyhold.key.created") && kid.equals(e.get("subject")))
                .findFirst()
                .orElseThrow();
        assertThat(created)
                .containsEntry("specversion", "1.0")
                .containsEntry("source", "/issuers/" + id)
                .containsKey("time")
                .containsKey("data");
        assertThat(events.stream()
                        .map(e -> e.get("type"))
                        .filter(t -> ((String) t).startsWith("keyhold."))
                        .count())
                .isEqualTo(events.size());
        // Trust bundle events come with these changes; their order is the subject of the trust tests.
        assertThat(events.stream()
                        .filter(e -> ("/issuers/" + id).equals(e.get("source")))
                        .map(e -> e.get("type"))
                        .filter(t -> !((String) t).startsWith("keyhold.trust."))
                        .toList())
                .containsExactly("keyhold.issuer.created", "keyhold.key.created", "keyhold.activation.requested");

        // limit and after page through the same sequence
        long first = ids.get(0);
        Api.anonymous()
                .queryParam("after", from)
                .queryParam("limit", 1)
                .get("/v1/events")
                .then()
                .statusCode(200)
                .body("size()", equalTo(1))
                .body("[0].id", equalTo(Long.toString(first)));
        Api.anonymous()
                .queryParam("after", head())
                .get("/v1/events")
                .then()
                .statusCode(200)
                .body("size()", equalTo(0));
    }

    @Test
    void badFeedParametersAre400() {
        for (String[] bad :
                new String[][] {{"limit", "0"}, {"limit", "1001"}, {"limit", "many"}, {"after", "-5"}, {"after", "1.5"}
                }) {
            Api.anonymous()
                    .queryParam(bad[0], bad[1])
                    .get("/v1/events")
                    .then()
                    .statusCode(400)
                    .contentType("application/problem+json")
                    .body("errors[0].field", equalTo(bad[0]));
        }
    }

    @Test
    void theStreamPushesNewEventsPromptlyWithIdsAndHeartbeats() throws Exception {
        long from = head();
        try (SseClient sse = new SseClient(URI.create(stream + "?after=" + from), Map.of())) {
            assertThat(sse.response.statusCode()).isEqualTo(200);
            assertThat(sse.response.headers().firstValue("Content-Type").orElse(""))
                    .startsWith("text/event-stream");
            String id = Api.createIssuer("stream");
            long created = sql.count(
                    "select seq from outbox_event where issuer_id = ? and type = 'keyhold.issuer.created'", id);
            await().atMost(Duration.ofSeconds(5)).until(() -> sse.ids().contains(created));
            int at = sse.lines.indexOf("id: " + created);
            assertThat(sse.lines.get(at + 1)).isEqualTo("event: keyhold.issuer.created");
            assertThat(sse.lines.get(at + 2))
                    .startsWith("data: {")
                    .contains("\"source\":\"/issuers/" + id + "\"")
                    .contains("\"id\":\"" + created + "\"");
            assertThat(sse.ids()).isSorted().doesNotHaveDuplicates().allMatch(s -> s > from);
            // idle: heartbeat comments keep coming (test interval 0.3 s)
            await().atMost(Duration.ofSeconds(5))
                    .until(() ->
                            sse.lines.stream().filter(": heartbeat"::equals).count() >= 2);
        }
    }

    @Test
    void theStreamResumesFromLastEventIdAndStartsAtTheHeadWithoutOne() throws Exception {
        String id = Api.createIssuer("resume");
        Api.rotate(id);
        List<Long> mine = List.of(
                sql.count("select seq from outbox_event where issuer_id = ? and type = 'keyhold.issuer.created'", id),
                sql.count("select seq from outbox_event where issuer_id = ? and type = 'keyhold.key.created'", id),
                sql.count(
                        "select seq from outbox_event where issuer_id = ? and type = 'keyhold.activation.requested'",
                        id));
        // a client that saw the first event reconnects: Last-Event-ID wins over ?after
        try (SseClient sse = new SseClient(
                URI.create(stream + "?after=0"),
                Map.of("Last-Event-ID", mine.get(0).toString()))) {
            await().atMost(Duration.ofSeconds(5)).until(() -> sse.ids().contains(mine.get(2)));
            // Trust bundle events interleave; their order is the subject of the trust tests.
            assertThat(sse.ids().stream()
                            .filter(s -> sql.count(
                                            "select count(*) from outbox_event where seq = ?"
                                                    + " and type like 'keyhold.trust.%'",
                                            s)
                                    == 0)
                            .toList())
                    .startsWith(mine.get(1), mine.get(2));
        }
        // without a cursor: only what commits after connecting
        try (SseClient sse = new SseClient(URI.create(stream.toString()), Map.of())) {
            String later = Api.createIssuer("resume");
            long seq = sql.count("select seq from outbox_event where issuer_id = ?", later);
            await().atMost(Duration.ofSeconds(5)).until(() -> sse.ids().contains(seq));
            assertThat(sse.ids()).doesNotContainAnyElementsOf(mine).allMatch(s -> s > mine.get(2));
        }
    }

    @Test
    void aBadStreamCursorIs400() {
        Api.anonymous()
                .queryParam("after", "x")
                .get("/v1/events/stream")
                .then()
                .statusCode(400)
                .contentType("application/problem+json");
        Api.anonymous()
                .header("Last-Event-ID", "-1")
                .get("/v1/events/stream")
                .then()
                .statusCode(400);
    }
}
