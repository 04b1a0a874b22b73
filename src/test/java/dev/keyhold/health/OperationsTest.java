package dev.keyhold.health;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

@QuarkusTest
class OperationsTest {

    @Test
    void readinessIsWhatTheInstanceCanServeAndTheRestIsInTheOperationsGroup() {
        // Readiness no longer includes the HSM, canaries, scheduler or relay (SPEC invariant 7).
        given().get("/q/health/ready")
                .then()
                .statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.name", org.hamcrest.Matchers.contains("serving"))
                .body("checks.find { it.name == 'serving' }.data.database", equalTo("UP"));
        given().get("/q/health/group/hsm")
                .then()
                .statusCode(200)
                .body("checks.find { it.name == 'hsm' }.data.default", equalTo("UP"));
        given().get("/q/health/group/operations")
                .then()
                .statusCode(200)
                .body("checks.name", hasItems("hsm", "canaries", "lifecycle", "kafka-relay"));
        given().get("/q/health/live").then().statusCode(200).body("checks.name", hasItems("hsm-library"));
    }

    @Test
    void metricsOpenApiAndSwagger() {
        given().get("/q/metrics").then().statusCode(200).body(containsString("jvm_memory_used_bytes"));
        given().get("/q/openapi").then().statusCode(200).body(containsString("/v1/issuers/{id}/rotations"));
        given().get("/q/swagger-ui/").then().statusCode(200);
    }

    @Test
    void unknownPathsAreProblems() {
        given().get("/v1/nothing-here").then().statusCode(org.hamcrest.Matchers.anyOf(equalTo(401), equalTo(404)));
        given().auth()
                .preemptive()
                .basic("admin", "keyhold-dev")
                .get("/v1/nothing-here")
                .then()
                .statusCode(404)
                .contentType("application/problem+json");
        given().auth()
                .preemptive()
                .basic("admin", "keyhold-dev")
                .delete("/v1/issuers")
                .then()
                .statusCode(405)
                .contentType("application/problem+json");
    }
}
