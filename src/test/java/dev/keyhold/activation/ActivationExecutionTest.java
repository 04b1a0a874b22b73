package dev.keyhold.activation;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
class ActivationExecutionTest {

    @Inject
    Lifecycle lifecycle;

    @Inject
    ActivationService activations;

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @AfterEach
    void reset() {
        clock.reset();
    }

    @Test
    void anApprovedKeyActivatesOnlyOnceItsPublishLeadHasPassed() {
        String id = Api.createIssuer("exec");
        String kid = Api.rotate(id);
        UUID request = (UUID) sql.one("select id from activation_request where kid = ?", kid);
        lifecycle.approve(request.toString());
        Instant activatable =
                ((java.sql.Timestamp) sql.one("select activatable_at from signing_key where kid = ?", kid)).toInstant();
        clock.freezeAt(activatable.minusSeconds(1));
        assertThat(activations.activateIfDue(request, "test")).isEmpty();
        assertThat(sql.one("select state from signing_key where kid = ?", kid)).isEqualTo("PENDING");
        clock.advance(Duration.ofSeconds(1));
        assertThat(activations.activateIfDue(request, "test")).contains(kid);
        assertThat(sql.one("select state from signing_key where kid = ?", kid)).isEqualTo("ACTIVE");
        assertThat(sql.one("select state from activation_request where id = ?", request))
                .isEqualTo("EXECUTED");
        // executed once only
        assertThat(activations.activateIfDue(request, "test")).isEmpty();
    }

    @Test
    void activationRetiresThePredecessorInTheSameTransaction() {
        String id = Api.createIssuer("succ");
        String first = lifecycle.activeKey(id);
        String second = lifecycle.activeKey(id);
        assertThat(sql.one("select state from signing_key where kid = ?", first))
                .isEqualTo("RETIRED");
        assertThat(sql.one("select state from signing_key where kid = ?", second))
                .isEqualTo("ACTIVE");
        assertThat(sql.one(
                        "select extract(epoch from verify_until - retired_at)::int from signing_key where kid = ?",
                        first))
                .isEqualTo(3600);
        as("auditor")
                .get("/v1/issuers/" + id)
                .then()
                .statusCode(200)
                .body("activeKid", org.hamcrest.Matchers.equalTo(second));
        assertThat(sql.count(
                        "select count(*) from outbox_event where issuer_id = ? and type = 'keyhold.key.retired'", id))
                .isEqualTo(1);
        assertThat(sql.count(
                        "select count(*) from outbox_event where issuer_id = ? and type = 'keyhold.key.activated'", id))
                .isEqualTo(2);
    }
}
