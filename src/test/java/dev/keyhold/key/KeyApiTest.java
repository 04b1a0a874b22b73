package dev.keyhold.key;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
class KeyApiTest {

    @Inject
    Sql sql;

    @Test
    void keysAreListedPerIssuerAndReadableByKid() {
        String id = Api.createIssuer("keys");
        String kid = Api.rotate(id);
        for (String who : List.of("admin", "alice", "scheduler", "signer", "auditor")) {
            as(who).get("/v1/issuers/" + id + "/keys")
                    .then()
                    .statusCode(200)
                    .body("", hasSize(1))
                    .body("[0].kid", equalTo(kid));
            as(who).get("/v1/keys/" + kid)
                    .then()
                    .statusCode(200)
                    .body("issuerId", equalTo(id))
                    .body("state", equalTo("PENDING"));
        }
        as("admin").get("/v1/issuers/no-such/keys").then().statusCode(404);
        as("admin").get("/v1/keys/not-a-kid").then().statusCode(404).contentType("application/problem+json");
        as("admin").get("/v1/keys/" + "A".repeat(43)).then().statusCode(404);
        Api.anonymous().get("/v1/keys/" + kid).then().statusCode(401);
    }

    @Test
    void custodiansOfTheIssuerAndAdminsRevoke() {
        Map<String, Object> body = Api.issuerBody(Api.uniqueId("revoke"));
        body.put("custodians", List.of("alice", "bob"));
        String id = Api.createIssuer(body);
        String kid = Api.rotate(id);
        // carol is a custodian, but not of this issuer
        as("carol")
                .body("{\"reason\":\"x\"}")
                .post("/v1/keys/" + kid + "/revoke")
                .then()
                .statusCode(403);
        as("scheduler")
                .body("{\"reason\":\"x\"}")
                .post("/v1/keys/" + kid + "/revoke")
                .then()
                .statusCode(403);
        as("alice").body("{}").post("/v1/keys/" + kid + "/revoke").then().statusCode(422);
        as("alice")
                .body("{\"reason\":\"   \"}")
                .post("/v1/keys/" + kid + "/revoke")
                .then()
                .statusCode(422);
        assertThat(sql.one("select state from signing_key where kid = ?", kid)).isEqualTo("PENDING");

        as("alice")
                .body("{\"reason\":\"suspected leak\"}")
                .post("/v1/keys/" + kid + "/revoke")
                .then()
                .statusCode(200)
                .body("state", equalTo("REVOKED"))
                .body("revocationReason", equalTo("suspected leak"))
                .body("revokedAt", notNullValue())
                .body("destroyAt", notNullValue());
        as("admin")
                .body("{\"reason\":\"again\"}")
                .post("/v1/keys/" + kid + "/revoke")
                .then()
                .statusCode(409)
                .body("detail", org.hamcrest.Matchers.containsString("REVOKED"));
        // its activation request can never be carried out now
        assertThat(sql.count(
                        "select count(*) from activation_request where kid = ? and state in ('OPEN','APPROVED')", kid))
                .isZero();
        // and the revocation is on the bus
        assertThat(sql.count(
                        "select count(*) from outbox_event where subject = ? and type = 'keyhold.key.revoked'", kid))
                .isEqualTo(1);
    }
}
