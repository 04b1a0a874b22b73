package dev.keyhold.validator;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Tokens.claims;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.TcpProxy;
import dev.keyhold.testsupport.Tokens;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The library against this real Keyhold through a TCP proxy that cuts every connection mid-test: a key revoked while
 * the library is cut off is refused from the moment the library is back, before any token is accepted; while cut
 * off it goes on with what it knew for at most maxStaleness, then fails closed ({@code stale}).
 */
@QuarkusTest
class FeedDropTest {

    @Inject
    Lifecycle lifecycle;

    @Inject
    MutableClock clock;

    @Inject
    Sql sql;

    @TestHTTPResource("/")
    URL base;

    @AfterEach
    void resetClock() {
        clock.reset();
    }

    private long head() {
        return ((Number) sql.one("select max(seq) from outbox_event")).longValue();
    }

    @Test
    void aRevocationWhileCutOffIsHonouredOnReconnectBeforeAnyTokenIsAccepted() throws Exception {
        String id = Api.createIssuer("feed-drop");
        String kid = lifecycle.activeKey(id);
        String token = Tokens.sign(id, claims(id));
        try (TcpProxy proxy = new TcpProxy(base.getPort());
                KeyholdValidator v = KeyholdValidator.builder(URI.create("http://127.0.0.1:" + proxy.port()))
                        .trust(id, Set.of("api://" + id))
                        .clock(clock)
                        .maxStaleness(Duration.ofSeconds(30))
                        .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
                        .build()) {
            assertThat(v.validate(token).valid()).isTrue();
            Api.rotate(id); // an event of ours, so the library holds a cursor to resume from
            long before = head();
            await().atMost(Duration.ofSeconds(20)).until(() -> v.feedStatus().lastEventId() >= before);

            proxy.cut();
            await().atMost(Duration.ofSeconds(20)).until(() -> !v.feedStatus().connected());
            as("alice")
                    .body("{\"reason\":\"stolen\"}")
                    .post("/v1/keys/" + kid + "/revoke")
                    .then()
                    .statusCode(200);
            long revoked = head();
            // Cut off, within maxStaleness: it cannot know yet (the documented window) ...
            assertThat(v.validate(token).valid()).isTrue();
            // ... and past it, unable to reload the issuer either: fail closed.
            clock.advance(Duration.ofSeconds(31));
            assertThat(v.validate(token).reason()).isEqualTo("stale");

            proxy.restore();
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            int checks = 0;
            while (!v.feedStatus().connected() && System.nanoTime() < end) {
                assertThat(v.validate(token).valid())
                        .as("accepted before the feed caught up")
                        .isFalse();
                checks++;
            }
            assertThat(v.feedStatus().connected()).isTrue();
            assertThat(checks).isPositive();
            assertThat(v.feedStatus().lastEventId()).isGreaterThanOrEqualTo(revoked);
            assertThat(v.validate(token).reason()).isEqualTo("key_not_usable");
            // the server's reference verdict agrees
            assertThat(Tokens.verdict(token)).isEqualTo("key_not_usable");
        }
    }
}
