package dev.keyhold.error;

import static dev.keyhold.testsupport.Api.as;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.LogCapture;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Each bad input of the hostile-input list, one by one: a 4xx problem, nothing changed, nothing logged as an error. */
@QuarkusTest
class BadInputTest {

    @Inject
    Lifecycle lifecycle;

    @Inject
    MutableClock clock;

    @Inject
    Sql sql;

    @AfterEach
    void resetClock() {
        clock.reset();
    }

    private static ValidatableResponse problem(io.restassured.response.Response r, int status) {
        return r.then()
                .statusCode(status)
                .contentType(startsWith("application/problem+json"))
                .body("status", equalTo(status));
    }

    @Test
    void malformedBasicCredentialsAre401NotAStackTrace() {
        try (LogCapture log = LogCapture.start()) {
            for (String auth : new String[] {
                "Basic !!!not-base64!!!",
                "Basic YWRt aW46a2V5aG9sZC1kZXY=",
                "Basic",
                "Basic ",
                "Basic YWRtaW4=",
                "Basic  YWRtaW46a2V5aG9sZC1kZXY=",
                "basic %%%%"
            }) {
                problem(given().header("Authorization", auth).get("/v1/issuers"), 401)
                        .header("WWW-Authenticate", containsString("Basic"));
                problem(
                        given().header("Authorization", auth)
                                .contentType("application/json")
                                .body("{}")
                                .post("/v1/issuers/x/rotations"),
                        401);
            }
            // well-formed credentials still work, and public documents ignore the header
            as("admin").get("/v1/issuers").then().statusCode(200);
            given().header("Authorization", "Basic !!!")
                    .get("/v1/events")
                    .then()
                    .statusCode(200);
            assertThat(log.stackTracesAndErrors()).isEmpty();
        }
    }

    @Test
    void duplicateMembersAreRefusedEverywhere() {
        String id = Api.createIssuer("dup");
        String kid = Api.rotate(id);
        String request =
                as("alice").get("/v1/activations?issuer=" + id).then().extract().path("[0].id");
        problem(
                        as("alice")
                                .body("{\"decision\":\"reject\",\"decision\":\"approve\"}")
                                .post("/v1/activations/" + request + "/decisions"),
                        400)
                .body("detail", containsString("duplicate"));
        assertThat(sql.count("select count(*) from activation_decision where request_id = ?::uuid", request))
                .isZero();

        problem(as("auditor").body("{\"token\":\"a\",\"token\":\"b\"}").post("/v1/verify"), 400);
        problem(as("admin").body("{\"reason\":\"a\",\"reason\":\"b\"}").post("/v1/keys/" + kid + "/revoke"), 400);
        problem(as("admin").body("{\"reason\":\"a\",\"reason\":\"b\"}").post("/v1/issuers/" + id + "/suspend"), 400);
        problem(
                as("signer").body("{\"claims\":{\"aud\":\"x\",\"aud\":\"y\"}}").post("/v1/issuers/" + id + "/sign"),
                400);
        Map<String, Object> body = Api.issuerBody(Api.uniqueId("dup"));
        String json = "{\"id\":\"" + body.get("id") + "\"," + toJson(body).substring(1);
        problem(as("admin").body(json).post("/v1/issuers"), 400);
        as("admin").get("/v1/issuers/" + body.get("id")).then().statusCode(404);
        as("admin").get("/v1/keys/" + kid).then().statusCode(200).body("state", equalTo("PENDING"));
        as("admin").get("/v1/issuers/" + id).then().statusCode(200).body("status", equalTo("ACTIVE"));
    }

    @Test
    void lossyCoercionAndNonFiniteNumbersAre400() {
        for (Object m : new Object[] {"2.9", "\"3\"", "1e400", "99999999999999999999", "true"}) {
            Map<String, Object> body = Api.issuerBody(Api.uniqueId("coerce"));
            body.remove("approvalsRequired");
            String json = toJson(body).replaceFirst("\\}$", ",\"approvalsRequired\":" + m + "}");
            problem(as("admin").body(json).post("/v1/issuers"), 400);
            as("admin").get("/v1/issuers/" + body.get("id")).then().statusCode(404);
        }
        String id = Api.createIssuer("finite");
        lifecycle.activeKey(id);
        for (String n : new String[] {"1e400", "-1e400", "1E+999"}) {
            problem(
                    as("signer")
                            .body("{\"claims\":{\"aud\":\"api://" + id + "\",\"n\":" + n + "}}")
                            .post("/v1/issuers/" + id + "/sign"),
                    400);
        }
        problem(as("auditor").body("{\"token\":123}").post("/v1/verify"), 400);
    }

    @Test
    void aTokenWithPaddingIsNotAJws() {
        String id = Api.createIssuer("padded");
        lifecycle.activeKey(id);
        String token = Tokens.sign(id, Tokens.claims(id));
        assertThat(Tokens.verdict(token)).isNull();
        for (String bad : new String[] {
            token + "==", token + "=", token.replaceFirst("\\.", "=."), " " + token, token.replace('-', '+')
        }) {
            if (bad.equals(token)) {
                continue;
            }
            as("auditor")
                    .body(Map.of("token", bad))
                    .post("/v1/verify")
                    .then()
                    .statusCode(200)
                    .body("valid", equalTo(false));
        }
    }

    @Test
    void badQueriesAre400() {
        for (String q : new String[] {
            "from=%2B999999999-12-31T23:59:59Z", "to=-999999999-01-01T00:00:00Z", "from=0000-01-01T00:00:00Z"
        }) {
            problem(as("auditor").urlEncodingEnabled(false).get("/v1/audit?" + q), 400);
        }
        problem(as("alice").get("/v1/activations?limit=abc"), 400);
        problem(as("alice").get("/v1/activations?limit=0"), 400);
        problem(given().get("/v1/events?limit=abc"), 400);
    }

    @Test
    void oversizedHeadersAndUrlsAreProblems() {
        problem(given().header("X-Big", "x".repeat(30_000)).get("/v1/events"), 431);
        problem(given().urlEncodingEnabled(false).get("/v1/events?x=" + "y".repeat(10_000)), 414);
        problem(as("admin").urlEncodingEnabled(false).get("/v1/issuers/" + "y".repeat(10_000)), 414);
    }

    @Test
    void every503CarriesRetryAfter() {
        Response r = ProblemMappers.respond(503, "hsm-unavailable", "HSM unavailable", "down", null, null);
        assertThat(r.getHeaderString("Retry-After")).isEqualTo(Problem.RETRY_AFTER_SECONDS);
        assertThat(ProblemMappers.respond(409, "x", "x", "x", null, null).getHeaderString("Retry-After"))
                .isNull();
    }

    private static String toJson(Map<String, Object> m) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(m);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
