package dev.keyhold.signing;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Tokens.claims;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Back-pressure on the sign path: one HSM thread and a queue of one, and an HSM made slow by this test. The signature
 * on the thread and the one in the queue are answered once the HSM is fast again; the next request is refused at once
 * with 503, {@code Retry-After} and a problem type, and counted. Authentication, the role check and the issuer's
 * signer list still come first.
 */
@QuarkusTest
@TestProfile(SigningBackPressureTest.TinyExecutor.class)
class SigningBackPressureTest {

    public static class TinyExecutor implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("keyhold.signing.executor.threads", "1", "keyhold.signing.executor.queue", "1");
        }

        @Override
        public Set<Class<?>> getEnabledAlternatives() {
            return Set.of(GatedHsm.class);
        }
    }

    @Inject
    Lifecycle lifecycle;

    @Inject
    GatedHsm hsm;

    @Inject
    SigningExecutor executor;

    @Inject
    dev.keyhold.testsupport.Sql sql;

    @TestHTTPResource("/")
    URL base;

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @AfterEach
    void openTheGate() {
        hsm.open();
    }

    @Test
    void aFullQueueIs503WithRetryAfterWhileTheAcceptedSignaturesSucceed() throws Exception {
        assertThat(executor.threads()).isEqualTo(1);
        assertThat(executor.queueCapacity()).isEqualTo(1);
        String id = Api.createIssuer("backpressure");
        lifecycle.activeKey(id);
        Map<String, Object> body = Map.of("claims", claims(id));
        as("signer").body(body).post("/v1/issuers/" + id + "/sign").then().statusCode(200); // the snapshot is cached

        hsm.close();
        CompletableFuture<HttpResponse<String>> onTheThread = post(id);
        awaitTrue(() -> hsm.waiting() == 1, "the first signature holds the only HSM thread");
        CompletableFuture<HttpResponse<String>> queued = post(id);
        awaitTrue(() -> executor.queued() == 1, "the second signature waits in the queue");

        Response refused = as("signer").body(body).post("/v1/issuers/" + id + "/sign");
        refused.then()
                .statusCode(503)
                .contentType("application/problem+json")
                .header("Retry-After", org.hamcrest.Matchers.matchesPattern("[1-9][0-9]*"))
                .body("type", equalTo("urn:keyhold:problem:signing-busy"))
                .body("status", equalTo(503));
        // the security checks come before the queue: no credentials 401, a role that may not sign 403, a signer the
        // issuer does not name 403
        Api.anonymous().body(body).post("/v1/issuers/" + id + "/sign").then().statusCode(401);
        as("auditor").body(body).post("/v1/issuers/" + id + "/sign").then().statusCode(403);
        as("signer2")
                .body(body)
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(403)
                .contentType("application/problem+json");
        assertThat(onTheThread).isNotDone();
        assertThat(queued).isNotDone();

        hsm.open();
        for (CompletableFuture<HttpResponse<String>> f : java.util.List.of(onTheThread, queued)) {
            HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            String token = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(r.body())
                    .get("token")
                    .asText();
            byte[] h = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII));
            assertThat(sql.count("select count(*) from ledger_token where token_sha256 = ?", h))
                    .as("an accepted token is in the ledger")
                    .isEqualTo(1);
        }
        as("signer").body(body).post("/v1/issuers/" + id + "/sign").then().statusCode(200);

        String metrics =
                given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics).contains("keyhold_signing_refusals_total{issuer=\"" + id + "\",reason=\"busy\"} 1.0");
        assertThat(metrics).contains("keyhold_signing_tokens_total{issuer=\"" + id + "\"} 4.0");
        assertThat(metrics)
                .containsPattern("http_server_requests_seconds_count\\{[^}]*status=\"503\"[^}]*"
                        + "uri=\"/v1/issuers/\\{id}/sign\"");
    }

    private CompletableFuture<HttpResponse<String>> post(String id) {
        String auth = Base64.getEncoder().encodeToString(("signer:" + Api.PASSWORD).getBytes(StandardCharsets.UTF_8));
        String json = "{\"claims\":{\"aud\":\"api://" + id + "\",\"sub\":\"bp\"}}";
        HttpRequest req = HttpRequest.newBuilder(URI.create(base.toString() + "v1/issuers/" + id + "/sign"))
                .header("Authorization", "Basic " + auth)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build();
        return http.sendAsync(req, HttpResponse.BodyHandlers.ofString());
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(2); // polling a condition, not waiting for time to pass
        }
    }
}
