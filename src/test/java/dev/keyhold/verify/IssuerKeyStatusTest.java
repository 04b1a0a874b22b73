package dev.keyhold.verify;

import static dev.keyhold.testsupport.Api.as;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code GET /issuers/{id}/.well-known/keyhold-issuer.json}: public, every kid of the issuer with its state. */
@QuarkusTest
class IssuerKeyStatusTest {

    @Inject
    Lifecycle lifecycle;

    @Test
    void listsEveryKeyOfTheIssuerOnlyWithItsStateAndRevalidatesWithAnETag() {
        String id = Api.createIssuer("status-doc");
        String other = Api.createIssuer("status-doc-other");
        String kid = lifecycle.activeKey(id);
        String otherKid = lifecycle.activeKey(other);
        var r = given().get("/issuers/" + id + "/.well-known/keyhold-issuer.json")
                .then()
                .statusCode(200)
                .header("Cache-Control", org.hamcrest.Matchers.startsWith("public, max-age="))
                .extract();
        String etag = r.header("ETag");
        assertThat(r.jsonPath().getString("id")).isEqualTo(id);
        assertThat(r.jsonPath().getString("issuerUri")).isEqualTo("https://" + id + ".test.example");
        assertThat(r.jsonPath().getString("status")).isEqualTo("ACTIVE");
        List<Map<String, Object>> keys = r.jsonPath().getList("keys");
        assertThat(keys).extracting(k -> k.get("kid")).containsExactly(kid).doesNotContain(otherKid);
        assertThat(keys.get(0)).containsEntry("state", "ACTIVE").containsKey("publishedUntil");
        given().header("If-None-Match", etag)
                .get("/issuers/" + id + "/.well-known/keyhold-issuer.json")
                .then()
                .statusCode(304);

        as("alice")
                .body("{\"reason\":\"status doc\"}")
                .post("/v1/keys/" + kid + "/revoke")
                .then()
                .statusCode(200);
        as("admin").body("{}").post("/v1/issuers/" + id + "/suspend").then().statusCode(200);
        var after = given().header("If-None-Match", etag)
                .get("/issuers/" + id + "/.well-known/keyhold-issuer.json")
                .then()
                .statusCode(200)
                .extract();
        assertThat(after.header("ETag")).isNotEqualTo(etag);
        assertThat(after.jsonPath().getString("status")).isEqualTo("SUSPENDED");
        assertThat(after.jsonPath().getString("keys[0].state")).isEqualTo("REVOKED");
        assertThat(after.jsonPath().getString("keys[0].publishedUntil")).isNull();

        given().get("/issuers/no-such-issuer/.well-known/keyhold-issuer.json")
                .then()
                .statusCode(404);
        given().get("/issuers/Bad_Id/.well-known/keyhold-issuer.json").then().statusCode(404);
    }
}
