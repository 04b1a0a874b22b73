package dev.keyhold.error;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.testsupport.Api;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The API and the console classify failures in one place: input the database cannot store (a NUL character) is a
 * 400 problem document on the API and a 400 page in the console (the console used to answer it with a 500 page).
 */
@QuarkusTest
class SameInputSameStatusTest {

    private static final String NUL_COMMENT = "looks wrong\u0000 to me";

    @Test
    void aNulInADecisionCommentIs400OnTheApiAndA400PageInTheConsole() {
        String viaApi = policyChange();
        Response api = Api.as("alice")
                .contentType(ContentType.JSON)
                .body(Map.of("decision", "reject", "comment", NUL_COMMENT))
                .post("/v1/activations/" + viaApi + "/decisions");
        assertThat(api.statusCode()).as(api.asString()).isEqualTo(400);
        assertThat(api.contentType()).startsWith(Problem.MEDIA_TYPE);
        assertThat(api.jsonPath().getInt("status")).isEqualTo(400);
        assertThat(api.jsonPath().getString("type")).isEqualTo(Problem.typeUri("bad-request"));

        String viaConsole = policyChange();
        String session = login("alice");
        String token = given().redirects()
                .follow(false)
                .cookie("keyhold-console", session)
                .get("/console/issuers")
                .then()
                .statusCode(200)
                .extract()
                .cookie("keyhold-csrf");
        Response page = given().redirects()
                .follow(false)
                .cookie("keyhold-console", session)
                .cookie("keyhold-csrf", token)
                .contentType(ContentType.URLENC)
                .formParam("decision", "reject")
                .formParam("comment", NUL_COMMENT)
                .formParam("csrf", token)
                .post("/console/requests/" + viaConsole + "/decision");
        assertThat(page.statusCode()).as(page.asString()).isEqualTo(400);
        assertThat(page.contentType()).startsWith("text/html");
        assertThat(page.asString()).contains("400 · Bad request").doesNotContain("Exception", "at dev.keyhold", "SQL");

        // nothing was decided on either side
        for (String request : List.of(viaApi, viaConsole)) {
            Api.as("admin")
                    .get("/v1/activations/" + request)
                    .then()
                    .statusCode(200)
                    .body("state", org.hamcrest.Matchers.equalTo("OPEN"));
        }
    }

    private static String policyChange() {
        String id = Api.createIssuer("nul");
        return Api.as("admin")
                .body(Map.of(
                        "custodians",
                        List.of("alice", "bob", "dave"),
                        "approvalsRequired",
                        3,
                        "tokenTtl",
                        "PT30M",
                        "reason",
                        "carol leaves"))
                .post("/v1/issuers/" + id + "/policy-changes")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
    }

    private static String login(String user) {
        Response r = given().redirects()
                .follow(false)
                .contentType(ContentType.URLENC)
                .formParam("j_username", user)
                .formParam("j_password", Api.PASSWORD)
                .post("/console/j_security_check");
        assertThat(r.statusCode()).isEqualTo(302);
        return r.cookie("keyhold-console");
    }
}
