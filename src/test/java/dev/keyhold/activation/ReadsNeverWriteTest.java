package dev.keyhold.activation;

import static dev.keyhold.testsupport.Api.as;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.StateFingerprint;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Reads never write: with an expiry and an activation due but not recorded, every GET endpoint leaves the rows and
 * the audit trail of the issuers concerned exactly as they were, and shows what is due instead. The sweep then
 * records both (so the setup really had something a read could have written).
 */
@QuarkusTest
class ReadsNeverWriteTest {

    @Inject
    Lifecycle lifecycle;

    @Inject
    MutableClock clock;

    @Inject
    Sql sql;

    @Inject
    StateFingerprint fingerprint;

    @Inject
    dev.keyhold.lifecycle.Sweeper sweeper;

    @TestHTTPResource("/v1/events/stream")
    URL stream;

    @AfterEach
    void reset() {
        clock.reset();
    }

    @Test
    void everyGetEndpointLeavesRowsAndAuditTrailUnchanged() throws Exception {
        // Issuer a: an ACTIVE key and an approved successor whose activatableAt has passed (activation due).
        String a = Api.createIssuer("rnw-a");
        String first = lifecycle.activeKey(a);
        String second = Api.rotate(a);
        UUID approved = (UUID) sql.one("select id from activation_request where kid = ? and state = 'OPEN'", second);
        lifecycle.approve(approved.toString());
        sql.replan(a);
        // Issuer b: an OPEN request past expiresAt (expiry due).
        String b = Api.createIssuer("rnw-b");
        String pendingB = Api.rotate(b);
        UUID open = (UUID) sql.one("select id from activation_request where kid = ? and state = 'OPEN'", pendingB);
        Instant expires = ((java.sql.Timestamp) sql.one("select expires_at from activation_request where id = ?", open))
                .toInstant();
        clock.freezeAt(expires.plusSeconds(1));

        String beforeA = fingerprint.of(a);
        String beforeB = fingerprint.of(b);
        long auditBefore = sql.count("select count(*) from audit_record where outcome <> 'denied'");
        long outboxBefore = sql.count("select count(*) from outbox_event");

        for (String user : List.of("admin", "auditor", "alice", "signer", "scheduler")) {
            as(user).get("/v1/issuers").then().statusCode(200);
            as(user).get("/v1/issuers/" + a).then().statusCode(200).body("activeKid", equalTo(first));
            as(user).get("/v1/issuers/" + b).then().statusCode(200);
            as(user).get("/v1/issuers/" + a + "/keys").then().statusCode(200);
            as(user).get("/v1/keys/" + first).then().statusCode(200);
            as(user).get("/v1/keys/" + second).then().statusCode(200).body("state", equalTo("PENDING"));
        }
        for (String user : List.of("admin", "auditor", "alice")) {
            as(user).get("/v1/activations").then().statusCode(200);
            as(user).get("/v1/activations?issuer=" + a + "&state=APPROVED")
                    .then()
                    .statusCode(200);
            as(user).get("/v1/activations?issuer=" + b + "&state=OPEN").then().statusCode(200);
            as(user).get("/v1/activations/" + approved)
                    .then()
                    .statusCode(200)
                    .body("state", equalTo("APPROVED"))
                    .body("due", equalTo("EXECUTED"));
            as(user).get("/v1/activations/" + open)
                    .then()
                    .statusCode(200)
                    .body("state", equalTo("OPEN"))
                    .body("due", equalTo("EXPIRED"));
        }
        as("auditor").get("/v1/keys/" + first + "/history").then().statusCode(200);
        as("auditor").get("/v1/audit?issuer=" + a).then().statusCode(200);
        as("auditor").get("/v1/audit/verify").then().statusCode(200);
        as("auditor").get("/v1/events?after=0&limit=10").then().statusCode(200);
        given().get("/issuers/" + a + "/.well-known/jwks.json").then().statusCode(200);
        given().get("/issuers/" + b + "/.well-known/jwks.json").then().statusCode(200);
        given().get("/issuers/" + a + "/.well-known/keyhold-issuer.json").then().statusCode(200);
        given().get("/q/health").then().statusCode(org.hamcrest.Matchers.anyOf(equalTo(200), equalTo(503)));
        given().get("/q/metrics").then().statusCode(200);
        HttpResponse<Stream<String>> sse = HttpClient.newHttpClient()
                .sendAsync(
                        HttpRequest.newBuilder(URI.create(stream + "?after=0"))
                                .header("Accept", "text/event-stream")
                                .header("Authorization", basic("auditor"))
                                .build(),
                        HttpResponse.BodyHandlers.ofLines())
                .get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(sse.statusCode()).isEqualTo(200);
        sse.body().close();

        assertThat(fingerprint.of(a)).isEqualTo(beforeA);
        assertThat(fingerprint.of(b)).isEqualTo(beforeB);
        assertThat(sql.one("select state from signing_key where kid = ?", second))
                .isEqualTo("PENDING");
        assertThat(sql.one("select state from activation_request where id = ?", open))
                .isEqualTo("OPEN");
        // Nobody else's rows either (the scheduler is off in tests; other issuers' due steps are not ours to take).
        assertThat(sql.count("select count(*) from audit_record where outcome <> 'denied'"))
                .isEqualTo(auditBefore);
        assertThat(sql.count("select count(*) from outbox_event")).isEqualTo(outboxBefore);

        // What the reads showed as due is what the sweep records.
        sweeper.sweep(List.of(a, b));
        assertThat(sql.one("select state from signing_key where kid = ?", second))
                .isEqualTo("ACTIVE");
        assertThat(sql.one("select state from activation_request where id = ?", open))
                .isEqualTo("EXPIRED");
        as("auditor")
                .get("/v1/activations/" + open)
                .then()
                .statusCode(200)
                .body("state", equalTo("EXPIRED"))
                .body("due", equalTo(null));
    }

    private static String basic(String user) {
        return "Basic "
                + java.util.Base64.getEncoder()
                        .encodeToString((user + ":" + Api.PASSWORD).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
