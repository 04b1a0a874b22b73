package dev.keyhold.validator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.util.JSONObjectUtils;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The evidence reporter against a stub of {@code POST /v1/evidence/reports} that records what it is sent. */
class EvidenceReporterTest {

    private static final String HEADER = Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString("{\"alg\":\"ES256\",\"kid\":\"k1\"}".getBytes(StandardCharsets.UTF_8));
    private static final String TOKEN_A = HEADER + ".eyJzdWIiOiJhIn0.c2ln";
    private static final String TOKEN_B = HEADER + ".eyJzdWIiOiJiIn0.c2ln";

    private final TestClock clock = new TestClock();
    private final List<Map<String, Object>> bodies = new CopyOnWriteArrayList<>();
    private final List<String> authorizations = new CopyOnWriteArrayList<>();
    private final AtomicInteger status = new AtomicInteger(200);
    private HttpServer server;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/evidence/reports", ex -> {
            try {
                authorizations.add(ex.getRequestHeaders().getFirst("Authorization"));
                bodies.add(
                        JSONObjectUtils.parse(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            } catch (java.text.ParseException e) {
                throw new IOException(e);
            }
            byte[] answer = "{\"received\":1,\"alarms\":1,\"findings\":[]}".getBytes(StandardCharsets.UTF_8);
            if (status.get() == 429) {
                ex.getResponseHeaders().add("Retry-After", "5");
            }
            ex.sendResponseHeaders(status.get(), answer.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(answer);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private EvidenceReporter.Builder reporter() {
        return EvidenceReporter.builder(
                        URI.create("http://127.0.0.1:" + server.getAddress().getPort()),
                        () -> "Basic dmFsaWRhdG9yOnNlY3JldA==")
                .clock(clock)
                .flushInterval(Duration.ZERO);
    }

    @Test
    void rejectedTokensGoAsHashHeaderAndReasonAcceptedOnesAsSampledTokens() throws Exception {
        try (EvidenceReporter r = reporter().acceptedSampleRate(1.0).build()) {
            r.report(TOKEN_A, new Verdict(false, Verdict.EXPIRED, "https://acme", "k1"));
            r.report(TOKEN_B, new Verdict(true, null, "https://acme", "k1"));
            r.report("not a token", new Verdict(false, Verdict.MALFORMED, null, null));
            assertTrue(bodies.isEmpty(), "report() only queues");
            assertEquals(3, r.flush());
            assertEquals(1, bodies.size());
            assertEquals(List.of("Basic dmFsaWRhdG9yOnNlY3JldA=="), authorizations);
            Map<String, Object> body = bodies.get(0);
            List<?> rejected = (List<?>) body.get("rejected");
            List<?> accepted = (List<?>) body.get("accepted");
            assertEquals(2, rejected.size());
            @SuppressWarnings("unchecked")
            Map<String, Object> first = (Map<String, Object>) rejected.get(0);
            assertFalse(first.containsKey("token"));
            assertEquals("expired", first.get("reason"));
            assertEquals(EvidenceReporter.sha256(TOKEN_A), first.get("sha256"));
            assertEquals(Map.of("alg", "ES256", "kid", "k1"), first.get("header"));
            assertFalse(body.toString().contains(TOKEN_A));
            assertEquals(List.of(Map.of("token", TOKEN_B)), accepted);
            assertEquals(new EvidenceReporter.Stats(3, 3, 0, 0, 1, 0), r.stats());
        }
    }

    @Test
    void theSampleRateDecidesForAcceptedTokensOnly() {
        try (EvidenceReporter none = reporter().acceptedSampleRate(0.0).build()) {
            for (int i = 0; i < 100; i++) {
                none.report(TOKEN_B, new Verdict(true, null, "https://acme", "k1"));
            }
            none.report(TOKEN_A, new Verdict(false, Verdict.INVALID_SIGNATURE, null, "k1"));
            assertEquals(1, none.stats().queued());
        }
        try (EvidenceReporter tenth =
                reporter().acceptedSampleRate(0.1).seed(42).build()) {
            for (int i = 0; i < 10_000; i++) {
                tenth.report(TOKEN_B, new Verdict(true, null, "https://acme", "k1"));
            }
            long q = tenth.stats().queued();
            assertTrue(q >= 850 && q <= 1150, "sampled " + q + " of 10,000 at 0.1");
        }
        assertThrows(IllegalArgumentException.class, () -> reporter().acceptedSampleRate(1.5));
        assertThrows(IllegalArgumentException.class, () -> reporter().acceptedSampleRate(Double.NaN));
    }

    @Test
    void aRateLimitedReportIsKeptAndSentOnceRetryAfterHasPassed() {
        try (EvidenceReporter r = reporter().build()) {
            r.report(TOKEN_A, new Verdict(false, Verdict.EXPIRED, null, "k1"));
            status.set(429);
            assertEquals(0, r.flush());
            assertEquals(1, r.stats().pending());
            status.set(200);
            clock.advance(Duration.ofSeconds(4));
            assertEquals(0, r.flush(), "still within Retry-After");
            assertEquals(1, bodies.size());
            clock.advance(Duration.ofSeconds(2));
            assertEquals(1, r.flush());
            assertEquals(2, bodies.size());
            assertEquals(0, r.stats().pending());
            assertEquals(1, r.stats().sent());
        }
    }

    @Test
    void batchesAreCappedAFullQueueDropsAndARefusedReportIsDropped() {
        try (EvidenceReporter r = reporter().maxBatch(2).capacity(5).build()) {
            for (int i = 0; i < 7; i++) {
                r.report(TOKEN_A, new Verdict(false, Verdict.EXPIRED, null, "k1"));
            }
            assertEquals(2, r.stats().dropped());
            assertEquals(5, r.flush());
            assertEquals(3, bodies.size());
            bodies.forEach(b -> assertTrue(((List<?>) b.get("rejected")).size() <= 2));
            status.set(422);
            r.report(TOKEN_A, new Verdict(false, Verdict.EXPIRED, null, "k1"));
            r.flush();
            assertEquals(3, r.stats().dropped());
            assertEquals(0, r.stats().pending());
        }
    }

    @Test
    void anUnreachableKeyholdKeepsTheTokensForTheNextFlush() {
        EvidenceReporter r = EvidenceReporter.builder(URI.create("http://127.0.0.1:1"), () -> "Basic eA==")
                .clock(clock)
                .flushInterval(Duration.ZERO)
                .requestTimeout(Duration.ofSeconds(2))
                .build();
        r.report(TOKEN_A, new Verdict(false, Verdict.EXPIRED, null, "k1"));
        assertEquals(0, r.flush());
        assertEquals(1, r.stats().pending());
        assertEquals(1, r.stats().failedSends());
    }
}
