package dev.keyhold.signing;

import static dev.keyhold.testsupport.Api.as;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The kill switch against the signing path: one custodian stops signing at once. */
@QuarkusTest
class SuspendStopsSigningTest {

    @Inject
    Lifecycle lifecycle;

    @Inject
    MutableClock clock;

    @AfterEach
    void reset() {
        clock.reset();
    }

    @Test
    void aSuspendedIssuerSignsNothingUntilAnApprovedResume() {
        String id = Api.createIssuer("kill-sign");
        String kid = lifecycle.activeKey(id);
        String body = "{\"claims\":{\"aud\":\"api://" + id + "\"}}";
        as("signer")
                .body(body)
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(200)
                .body("kid", equalTo(kid));

        as("bob")
                .body("{\"reason\":\"incident\"}")
                .post("/v1/issuers/" + id + "/suspend")
                .then()
                .statusCode(200);
        as("signer")
                .body(body)
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(409)
                .contentType("application/problem+json");

        String request = as("alice")
                .body("{}")
                .post("/v1/issuers/" + id + "/resume")
                .then()
                .statusCode(org.hamcrest.Matchers.anyOf(equalTo(200), equalTo(201)))
                .extract()
                .path("id");
        // the requester does not count: two other custodians approve
        dev.keyhold.testsupport.Api.approve("bob", request).then().statusCode(200);
        as("signer").body(body).post("/v1/issuers/" + id + "/sign").then().statusCode(409);
        dev.keyhold.testsupport.Api.approve("carol", request).then().statusCode(200);
        as("signer")
                .body(body)
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(200)
                .body("token", notNullValue());
    }
}
