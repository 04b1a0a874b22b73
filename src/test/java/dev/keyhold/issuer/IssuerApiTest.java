package dev.keyhold.issuer;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Api.issuerBody;
import static dev.keyhold.testsupport.Api.uniqueId;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import dev.keyhold.testsupport.Api;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@QuarkusTest
class IssuerApiTest {

    @Test
    void adminCreatesAnIssuerAndEveryRoleCanReadIt() {
        String id = uniqueId("acme");
        as("admin")
                .body(issuerBody(id))
                .post("/v1/issuers")
                .then()
                .statusCode(201)
                .header("Location", containsString("/v1/issuers/" + id))
                .body("id", equalTo(id))
                .body("status", equalTo("ACTIVE"))
                .body("algorithm", equalTo("ES256"))
                .body("rotationPeriod", equalTo("PT720H"))
                .body("activeKid", nullValue())
                .body("overdue", equalTo(false));
        for (String who : List.of("admin", "alice", "scheduler", "signer", "auditor")) {
            as(who).get("/v1/issuers/" + id)
                    .then()
                    .statusCode(200)
                    .body("issuerUri", equalTo("https://" + id + ".test.example"));
            as(who).get("/v1/issuers").then().statusCode(200).body("id", hasItem(id));
        }
    }

    @Test
    void duplicatesAreRefusedWithoutChange() {
        Map<String, Object> body = issuerBody(uniqueId("dup"));
        Api.createIssuer(body);
        as("admin")
                .body(body)
                .post("/v1/issuers")
                .then()
                .statusCode(409)
                .contentType("application/problem+json")
                .body("status", equalTo(409));
        // same iss under another id: two issuers sharing an iss would break issuer binding
        Map<String, Object> sameUri = issuerBody(uniqueId("dup"));
        sameUri.put("issuerUri", body.get("issuerUri"));
        as("admin").body(sameUri).post("/v1/issuers").then().statusCode(409);
        as("admin").get("/v1/issuers/" + sameUri.get("id")).then().statusCode(404);
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "id|Not_A_Slug",
                "id|-leading-dash",
                "issuerUri|not a uri",
                "issuerUri|/relative/path",
                "issuerUri|ftp://x.example",
                "issuerUri|https://x.example/#frag",
                "partition|nowhere",
                "partition|audit",
                "partition|trust",
                "algorithm|HS256",
                "algorithm|none",
                "algorithm|es256",
                "rotationPeriod|P1M",
                "rotationPeriod|-PT1H",
                "rotationPeriod|PT0S",
                "publishLead|PT30S",
                "publishLead|PT1M",
                "publishLead|P31D",
                "activeDeadline|P29D",
                "tokenTtl|P31D",
                "approvalTtl|PT0S",
                "destroyGrace|-P1D",
                "approvalsRequired|1",
                "approvalsRequired|4",
                "approvalsRequired|0",
            })
    void invalidDefinitionsAre422AndCreateNothing(String field, String value) {
        Map<String, Object> body = issuerBody(uniqueId("bad"));
        body.put(field, field.equals("approvalsRequired") ? Integer.valueOf(value) : value);
        String id = field.equals("id") ? value : (String) body.get("id");
        as("admin")
                .body(body)
                .post("/v1/issuers")
                .then()
                .statusCode(422)
                .contentType("application/problem+json")
                .body("errors.field", hasItem(field));
        if (!field.equals("id")) {
            as("admin").get("/v1/issuers/" + id).then().statusCode(404);
        }
    }

    @Test
    void listsMustBeNonEmptyDistinctAndSane() {
        for (Object bad : List.of(List.of(), List.of("alice", "alice"), List.of("has space"))) {
            Map<String, Object> body = issuerBody(uniqueId("lists"));
            body.put("custodians", bad);
            as("admin")
                    .body(body)
                    .post("/v1/issuers")
                    .then()
                    .statusCode(422)
                    .body("errors.field", hasItem("custodians"));
        }
        Map<String, Object> body = issuerBody(uniqueId("lists"));
        body.put("audiences", List.of());
        as("admin").body(body).post("/v1/issuers").then().statusCode(422).body("errors.field", hasItem("audiences"));
    }

    @Test
    void malformedBodiesAre400() {
        String id = uniqueId("malformed");
        as("admin").body("{\"id\":").post("/v1/issuers").then().statusCode(400).contentType("application/problem+json");
        as("admin").body("[1,2]").post("/v1/issuers").then().statusCode(400).contentType("application/problem+json");
        as("admin")
                .body("{\"id\":\"" + id + "\",\"custodians\":\"alice\"}")
                .post("/v1/issuers")
                .then()
                .statusCode(400)
                .body("detail", containsString("custodians"));
        as("admin")
                .body("{\"id\":\"" + id + "\",\"approvalsRequired\":\"two\"}")
                .post("/v1/issuers")
                .then()
                .statusCode(400);
        Map<String, Object> body = issuerBody(id);
        body.put("isAdmin", true);
        as("admin").body(body).post("/v1/issuers").then().statusCode(400).body("detail", containsString("isAdmin"));
        as("admin")
                .contentType(ContentType.TEXT)
                .body("hello")
                .post("/v1/issuers")
                .then()
                .statusCode(415)
                .contentType("application/problem+json");
        as("admin").get("/v1/issuers/" + id).then().statusCode(404);
    }

    @Test
    void oversizedBodiesAre413() {
        String huge = "{\"id\":\"" + "x".repeat(70_000) + "\"}";
        as("admin").body(huge).post("/v1/issuers").then().statusCode(413).contentType("application/problem+json");
    }

    @Test
    void oddPathValuesAre404NotErrors() {
        for (String id : List.of("UPPER", "..", "%2e%2e", "a%00b", "x".repeat(200), "a;b", "%F0%9F%94%91")) {
            as("admin")
                    .urlEncodingEnabled(false)
                    .get("/v1/issuers/" + id)
                    .then()
                    .statusCode(404)
                    .contentType("application/problem+json");
        }
    }

    @Test
    void authenticationAndRoles() {
        String id = Api.createIssuer("auth");
        given().get("/v1/issuers")
                .then()
                .statusCode(401)
                .header("WWW-Authenticate", containsString("Basic"))
                .contentType("application/problem+json");
        given().auth()
                .preemptive()
                .basic("admin", "wrong")
                .get("/v1/issuers")
                .then()
                .statusCode(401);
        given().auth()
                .preemptive()
                .basic("nobody", "keyhold-dev")
                .get("/v1/issuers")
                .then()
                .statusCode(401);
        for (String who : List.of("alice", "scheduler", "signer", "auditor")) {
            as(who).body(issuerBody(uniqueId("auth")))
                    .post("/v1/issuers")
                    .then()
                    .statusCode(403)
                    .contentType("application/problem+json");
        }
        as("admin").get("/v1/issuers/" + id).then().statusCode(200).body("createdAt", notNullValue());
    }
}
