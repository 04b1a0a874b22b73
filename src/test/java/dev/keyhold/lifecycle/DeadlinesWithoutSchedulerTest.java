package dev.keyhold.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.domain.Deadlines;
import dev.keyhold.domain.Key;
import dev.keyhold.store.KeyEntity;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * SPEC invariant 5 with the scheduler stopped (its timer is off in tests and nothing here sweeps): the rows keep
 * their old states, yet a key past notAfter cannot sign and the JWKS drops keys at their deadlines.
 */
@QuarkusTest
class DeadlinesWithoutSchedulerTest {

    @Inject
    Lifecycle lifecycle;

    @Inject
    SchedulerConfig scheduler;

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @AfterEach
    void reset() {
        clock.reset();
    }

    @Test
    void aKeyPastNotAfterCannotSignAndLeavesTheJwksAfterTokenTtlThoughItsRowStillSaysActive() {
        assertThat(scheduler.enabled()).isFalse();
        String id = Api.createIssuer("nosched");
        String kid = lifecycle.activeKey(id);
        Key k = key(kid);
        clock.freezeAt(k.notAfter().minusSeconds(1));
        assertThat(Deadlines.canSign(key(kid), clock.instant())).isTrue();
        clock.freezeAt(k.notAfter());
        assertThat(Deadlines.canSign(key(kid), clock.instant())).isFalse();
        assertThat(jwks(id)).containsExactly(kid); // tokens it signed until notAfter are still verifiable
        clock.freezeAt(k.notAfter().plus(Duration.ofHours(1)).minusSeconds(1));
        assertThat(jwks(id)).containsExactly(kid);
        clock.freezeAt(k.notAfter().plus(Duration.ofHours(1)));
        assertThat(jwks(id)).isEmpty();
        assertThat(sql.one("select state from signing_key where kid = ?", kid)).isEqualTo("ACTIVE");
    }

    @Test
    void aRetiredKeyLeavesTheJwksAtVerifyUntilThoughNothingMarkedItUnpublished() {
        String id = Api.createIssuer("nosched");
        String first = lifecycle.activeKey(id);
        String second = lifecycle.activeKey(id);
        Instant verifyUntil = key(first).verifyUntil();
        clock.freezeAt(verifyUntil.minusSeconds(1));
        assertThat(jwks(id)).containsExactlyInAnyOrder(first, second);
        clock.freezeAt(verifyUntil);
        assertThat(jwks(id)).containsExactly(second);
        clock.freezeAt(verifyUntil.plus(Duration.ofDays(400)));
        assertThat(sql.one("select unpublished_at from signing_key where kid = ?", first))
                .isNull();
        assertThat(sql.one("select state from signing_key where kid = ?", first))
                .isEqualTo("RETIRED");
        assertThat(jwks(id)).isEmpty(); // second is long past notAfter + tokenTtl too
        assertThat(Deadlines.canSign(key(second), clock.instant())).isFalse();
    }

    private static Key key(String kid) {
        return QuarkusTransaction.requiringNew()
                .call(() -> KeyEntity.findByKid(kid).orElseThrow().toKey());
    }

    private static List<String> jwks(String id) {
        return Api.anonymous()
                .get("/issuers/" + id + "/.well-known/jwks.json")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("keys.kid", String.class);
    }
}
