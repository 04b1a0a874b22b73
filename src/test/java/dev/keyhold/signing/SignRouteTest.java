package dev.keyhold.signing;

import dev.keyhold.security.BearerTokenTest;
import dev.keyhold.security.Roles;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Api.sign;
import static dev.keyhold.testsupport.Tokens.claims;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fast sign route answers the common case like the JAX-RS resource does, and leaves everything else to it.
 * The first sign of a fresh issuer goes through the resource (its snapshot is not in memory yet); later ones
 * through the route.
 */
@QuarkusTest
class SignRouteTest {

    @Inject
    Lifecycle lifecycle;
    @Inject
    SignRoute route;
    @Inject
    MutableClock clock;

    @AfterEach
    void reset() {
        clock.reset();
    }

    long served() {
        return route.served();
    }

    /** Signs until the route answers (the snapshot is cached once activation's invalidations have passed). */
    Response warm(String id) {
        return RouteAttempts.untilRouteServes(route, 1, () -> {
            Response r = sign("signer", id, Map.of("claims", claims(id)));
            r.then().statusCode(200);
            return r;
        });
    }

    /** A fresh issuer with an ACTIVE key whose snapshot the route already serves. */
    String warmIssuer() {
        String id = Api.createIssuer("sroute");
        lifecycle.activeKey(id);
        warm(id);
        return id;
    }

    @Test
    void routeAndResourceAnswerAlike() {
        String id = Api.createIssuer("sroute");
        String kid = lifecycle.activeKey(id);
        long before = served();
        Response viaResource = sign("signer", id, Map.of("claims", claims(id)));
        viaResource.then().statusCode(200);
        assertThat(served()).isEqualTo(before); // not cached yet
        Response viaRoute = warm(id);
        assertThat(viaRoute.contentType()).isEqualTo(viaResource.contentType());
        assertThat(viaRoute.jsonPath().getMap("").keySet()).isEqualTo(viaResource.jsonPath().getMap("").keySet());
        assertThat(viaRoute.<String>path("kid")).isEqualTo(kid);
        assertThat(viaRoute.header("X-Request-Id")).isNotBlank();
    }

    /**
     * With the default keyhold.signing.batch-event-loops the HTTP event loops run under SCHED_BATCH, and the signing
     * threads, started by them, have the normal policy back: the loops' wake-ups never preempt a signature.
     */
    @Test
    void eventLoopsRunUnderTheBatchPolicyAndSigningThreadsUnderTheNormalOne() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/thread-self")), "scheduling policies are Linux-only");
        warmIssuer();
        Map<String, Set<Integer>> policies = EventLoopSchedulingTest.processPolicies();
        assertThat(policies.get("vert.x-eventloo")).containsOnly(EventLoopScheduling.SCHED_BATCH);
        assertThat(policies.get("keyhold-signing")).containsOnly(EventLoopScheduling.SCHED_OTHER);
    }

    @Test
    void failuresAfterTheBodyGetTheResourcesProblems() {
        String id = warmIssuer();
        RouteAttempts.untilRouteServes(route, 4, () -> {
            Response badAud = sign("signer", id, Map.of("claims", Map.of("aud", "api://other")));
            Response unknownField = sign("signer", id, Map.of("claims", claims(id), "extra", 1));
            Response notJson = as("signer").body("{\"claims\":").post("/v1/issuers/" + id + "/sign");
            Response tooLong = sign("signer", id, Map.of("claims", claims(id), "ttl", "PT2H"));
            badAud.then().statusCode(422).contentType("application/problem+json")
                    .body("type", org.hamcrest.Matchers.equalTo("urn:keyhold:problem:invalid-request"))
                    .body("instance", org.hamcrest.Matchers.equalTo("/v1/issuers/" + id + "/sign"));
            assertThat(badAud.jsonPath().getList("errors")).isNotEmpty();
            unknownField.then().statusCode(400).body("detail", org.hamcrest.Matchers.equalTo("unknown field 'extra'"));
            notJson.then().statusCode(400).body("type", org.hamcrest.Matchers.equalTo("urn:keyhold:problem:malformed-body"));
            tooLong.then().statusCode(422);
            return null;
        });
    }

    @Test
    void aVerifiedBasicCredentialIsAnsweredAheadOfTheFiltersWithTheSameAnswer() {
        String id = Api.createIssuer("sroute");
        String kid = lifecycle.activeKey(id);
        Response viaResource = sign("signer", id, Map.of("claims", claims(id)));
        viaResource.then().statusCode(200);
        warm(id);
        long early = route.servedEarly();
        Response viaEarly = RouteAttempts.untilRouteServes(route, 1, () -> as("signer").header("X-Request-Id", "trace-42")
                .body(Map.of("claims", claims(id))).post("/v1/issuers/" + id + "/sign"));
        assertThat(route.servedEarly()).isGreaterThan(early);
        viaEarly.then().statusCode(200).contentType(viaResource.contentType()).header("X-Request-Id", "trace-42");
        assertThat(viaEarly.jsonPath().getMap("").keySet()).isEqualTo(viaResource.jsonPath().getMap("").keySet());
        assertThat(viaEarly.<String>path("kid")).isEqualTo(kid);
        Response ownId = RouteAttempts.untilRouteServes(route, 1, () -> sign("signer", id, Map.of("claims", claims(id))));
        assertThat(ownId.header("X-Request-Id")).isNotBlank().isNotEqualTo("trace-42");
    }

    @Test
    void aBearerTokenGoesThroughQuarkusAuthenticationNeverAheadOfIt() throws Exception {
        String id = warmIssuer();
        String bearer = BearerTokenTest.token(BearerTokenTest.providerKey(), "https://idp.test.example", "signer",
                List.of(Roles.SIGNER), 300);
        long early = route.servedEarly();
        RouteAttempts.untilRouteServes(route, 2, () -> {
            for (int i = 0; i < 2; i++) {
                RestAssured.given().auth().oauth2(bearer).contentType("application/json")
                        .body(Map.of("claims", claims(id))).post("/v1/issuers/" + id + "/sign").then().statusCode(200);
            }
            return null;
        });
        assertThat(route.servedEarly()).isEqualTo(early);
        RestAssured.given().auth().oauth2(bearer + "x").contentType("application/json")
                .body(Map.of("claims", claims(id))).post("/v1/issuers/" + id + "/sign").then().statusCode(401);
    }

    @Test
    void anOversizedBodyIsRefusedByTheLimitNotReadByTheRoute() {
        String id = warmIssuer();
        long before = served();
        Map<String, Object> big = new java.util.HashMap<>(claims(id));
        big.put("pad", "x".repeat(70 * 1024));
        sign("signer", id, Map.of("claims", big)).then().statusCode(413);
        assertThat(served()).isEqualTo(before);
    }

    @Test
    void everythingElseIsLeftToTheResource() {
        String id = warmIssuer();
        long before = served();
        sign("signer2", id, Map.of("claims", claims(id))).then().statusCode(403);          // not named
        sign("alice", id, Map.of("claims", claims(id))).then().statusCode(403);            // not a signer
        io.restassured.RestAssured.given().contentType("application/json").body(Map.of("claims", claims(id)))
                .post("/v1/issuers/" + id + "/sign").then().statusCode(401).header("WWW-Authenticate", org.hamcrest.Matchers.notNullValue());
        io.restassured.RestAssured.given().auth().preemptive().basic("signer", "wrong").contentType("application/json")
                .body(Map.of("claims", claims(id))).post("/v1/issuers/" + id + "/sign").then().statusCode(401);
        as("signer").contentType("text/plain").body("x").post("/v1/issuers/" + id + "/sign").then().statusCode(415);
        as("signer").accept("text/plain").body(Map.of("claims", claims(id))).post("/v1/issuers/" + id + "/sign")
                .then().statusCode(406);
        sign("signer", "no-such-issuer-" + id, Map.of("claims", claims(id))).then().statusCode(404);
        clock.advance(java.time.Duration.ofDays(400)); // past notAfter: the resource refuses it
        sign("signer", id, Map.of("claims", claims(id))).then().statusCode(409);
        assertThat(served()).isEqualTo(before);
    }
}
