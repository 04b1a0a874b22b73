package dev.keyhold.issuer;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.StateFingerprint;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.util.List;
import org.junit.jupiter.api.Test;

@QuarkusTest
class PolicyChangeTest {

    @Inject
    Sql sql;

    @Inject
    StateFingerprint fingerprint;

    static Response decide(String user, String request, String decision) {
        return dev.keyhold.testsupport.Api.decide(user, request, decision, null);
    }

    static Response propose(String user, String issuer, String body) {
        return as(user).body(body).post("/v1/issuers/" + issuer + "/policy-changes");
    }

    @Test
    void aChangeIsAppliedOnlyOnceMOfTheCurrentCustodiansApprove() {
        String id = Api.createIssuer("policy");
        Response opened = propose(
                "alice",
                id,
                "{\"custodians\":[\"alice\",\"bob\",\"dave\"],\"approvalsRequired\":3,"
                        + "\"tokenTtl\":\"PT30M\",\"audiences\":[\"api://x\",\"api://y\"],\"reason\":\"carol leaves\"}");
        opened.then()
                .statusCode(201)
                .body("kind", equalTo("POLICY_CHANGE"))
                .body("state", equalTo("OPEN"))
                .body("proposed.custodians", equalTo(List.of("alice", "bob", "dave")))
                .body("proposed.approvalsRequired", equalTo(3))
                .body("proposed.tokenTtl", equalTo("PT30M"))
                .body("proposed.issuerUri", equalTo("https://" + id + ".test.example"))
                .body("reason", equalTo("carol leaves"));
        String request = opened.path("id");
        assertThat(opened.header("Location")).endsWith("/v1/activations/" + request);
        as("auditor")
                .get("/v1/issuers/" + id)
                .then()
                .body("approvalsRequired", equalTo(2))
                .body("tokenTtl", equalTo("PT1H"));

        // dave is not a custodian yet: only the current ones decide; the requester does not count
        decide("dave", request, "approve").then().statusCode(403);
        decide("alice", request, "approve").then().statusCode(403);
        decide("carol", request, "approve").then().statusCode(200).body("state", equalTo("OPEN"));
        as("auditor").get("/v1/issuers/" + id).then().body("custodians", hasItem("carol"));
        decide("bob", request, "approve").then().statusCode(200).body("state", equalTo("EXECUTED"));

        as("auditor")
                .get("/v1/issuers/" + id)
                .then()
                .statusCode(200)
                .body("custodians", equalTo(List.of("alice", "bob", "dave")))
                .body("approvalsRequired", equalTo(3))
                .body("tokenTtl", equalTo("PT30M"))
                .body("audiences", equalTo(List.of("api://x", "api://y")))
                .body("issuerUri", equalTo("https://" + id + ".test.example"));
        assertThat(sql.count(
                        "select count(*) from outbox_event where issuer_id = ? and type = 'keyhold.issuer.policy-changed'",
                        id))
                .isEqualTo(1);
        String data = (String) sql.one(
                "select data from outbox_event where issuer_id = ? and type = 'keyhold.issuer.policy-changed'", id);
        assertThat(data).contains("\"approvalsRequired\":{\"from\":2,\"to\":3}").doesNotContain("rotationPeriod");

        // the new policy governs the next request: carol is out, dave is in, three are needed
        String kid = Api.rotate(id);
        String keyRequest = (String) sql.one("select id::text from activation_request where kid = ?", kid);
        decide("carol", keyRequest, "approve").then().statusCode(403);
        decide("alice", keyRequest, "approve").then().statusCode(200);
        decide("bob", keyRequest, "approve")
                .then()
                .statusCode(200)
                .body("state", equalTo("OPEN"))
                .body("approvalsRequired", equalTo(3));
        decide("dave", keyRequest, "approve").then().statusCode(200).body("state", equalTo("APPROVED"));
    }

    @Test
    void raisingMAppliesToRequestsStillOpenAndRemovedCustodiansStopCounting() {
        String id = Api.createIssuer("policy-open");
        String kid = Api.rotate(id);
        String keyRequest = (String) sql.one("select id::text from activation_request where kid = ?", kid);
        decide("carol", keyRequest, "approve").then().statusCode(200);
        String change = propose("admin", id, "{\"custodians\":[\"alice\",\"bob\",\"dave\"],\"approvalsRequired\":3}")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
        decide("alice", change, "approve").then().statusCode(200);
        decide("bob", change, "approve").then().statusCode(200).body("state", equalTo("EXECUTED"));
        // carol's earlier approval no longer counts and M is now 3
        as("admin")
                .get("/v1/activations/" + keyRequest)
                .then()
                .body("approvals", equalTo(0))
                .body("approvalsRequired", equalTo(3));
        decide("alice", keyRequest, "approve").then().statusCode(200);
        decide("bob", keyRequest, "approve").then().statusCode(200).body("state", equalTo("OPEN"));
        decide("dave", keyRequest, "approve").then().statusCode(200).body("state", equalTo("APPROVED"));
    }

    @Test
    void proposalsAreValidatedAsAtCreationAndRefusalsChangeNothing() {
        String id = Api.createIssuer("policy-bad");
        String before = fingerprint.of(id);
        propose("alice", id, "{\"partition\":\"east\"}")
                .then()
                .statusCode(422)
                .body("errors[0].field", equalTo("partition"));
        propose("alice", id, "{\"issuerUri\":\"https://other.example\"}")
                .then()
                .statusCode(422)
                .body("errors[0].field", equalTo("issuerUri"));
        propose("alice", id, "{\"id\":\"other\"}").then().statusCode(422);
        propose("alice", id, "{\"approvalsRequired\":4}")
                .then()
                .statusCode(422)
                .body("errors[0].field", equalTo("approvalsRequired"));
        propose("alice", id, "{\"approvalsRequired\":1}").then().statusCode(422);
        propose("alice", id, "{\"publishLead\":\"P31D\"}")
                .then()
                .statusCode(422)
                .body("errors[0].field", equalTo("publishLead"));
        propose("alice", id, "{\"tokenTtl\":\"soon\"}").then().statusCode(422);
        propose("alice", id, "{\"custodians\":[\"alice\",\"alice\"]}").then().statusCode(422);
        propose("alice", id, "{\"algorithm\":\"HS256\"}").then().statusCode(422);
        propose("alice", id, "{}").then().statusCode(422);
        propose("alice", id, "{\"tokenTtl\":\"PT1H\",\"partition\":\"default\"}")
                .then()
                .statusCode(422); // no change
        propose("alice", id, "{\"colour\":\"red\"}").then().statusCode(400);
        propose("mallory", id, "{\"tokenTtl\":\"PT5M\"}").then().statusCode(403);
        propose("signer", id, "{\"tokenTtl\":\"PT5M\"}").then().statusCode(403);
        propose("admin", "no-such-issuer", "{\"tokenTtl\":\"PT5M\"}").then().statusCode(404);
        assertThat(fingerprint.of(id)).isEqualTo(before);
        assertThat(sql.count(
                        "select count(*) from audit_record where actor = 'mallory' and issuer_id = ? and outcome = 'denied'"
                                + " and action = 'issuer.policy-change'",
                        id))
                .isEqualTo(1);

        // one live change per issuer; an algorithm change is allowed (it applies to future keys)
        String first = propose("bob", id, "{\"algorithm\":\"PS256\"}")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
        propose("carol", id, "{\"tokenTtl\":\"PT5M\"}")
                .then()
                .statusCode(409)
                .body("type", equalTo("urn:keyhold:problem:policy-change-pending"));
        decide("alice", first, "reject").then().statusCode(200).body("state", equalTo("REJECTED"));
        as("auditor").get("/v1/issuers/" + id).then().body("algorithm", equalTo("ES256"));
        propose("carol", id, "{\"tokenTtl\":\"PT5M\"}").then().statusCode(201);
    }

    @Test
    void anAlgorithmChangeAppliesToTheNextKeyOnly() {
        String id = Api.createIssuer("policy-alg");
        String oldKid = Api.rotate(id);
        String change = propose("alice", id, "{\"algorithm\":\"ES384\"}")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
        decide("bob", change, "approve").then().statusCode(200);
        decide("carol", change, "approve").then().statusCode(200).body("state", equalTo("EXECUTED"));
        assertThat(sql.one("select algorithm from signing_key where kid = ?", oldKid))
                .isEqualTo("ES256");
        as("admin")
                .body("{\"reason\":\"x\"}")
                .post("/v1/keys/" + oldKid + "/revoke")
                .then()
                .statusCode(200);
        String newKid = Api.rotate(id);
        assertThat(sql.one("select algorithm from signing_key where kid = ?", newKid))
                .isEqualTo("ES384");
    }

    @Test
    void theDualControlEndpointsAreInTheOpenApiDocument() {
        String doc = io.restassured.RestAssured.given()
                .get("/q/openapi?format=json")
                .then()
                .statusCode(200)
                .extract()
                .asString();
        assertThat(doc)
                .contains(
                        "/v1/issuers/{id}/policy-changes",
                        "/v1/issuers/{id}/suspend",
                        "/v1/issuers/{id}/resume",
                        "/v1/activations/{id}/decisions",
                        "Propose a policy change",
                        "Dual control");
    }
}
