package dev.keyhold.http;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.testsupport.Api;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code /q/openapi} as a client generator reads it : both security schemes, a Problem on every
 * error response, the Vert.x routes described as they answer, and every operation answering, on the running
 * service, only statuses it documents.
 */
@QuarkusTest
class OpenApiContractTest {

    private static final List<String> METHODS = List.of("get", "post", "put", "delete", "patch");

    private static JsonPath document() throws Exception {
        String json = given().accept("application/json")
                .get("/q/openapi?format=json")
                .then()
                .statusCode(200)
                .extract()
                .asString();
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target/openapi.json"), json);
        return new JsonPath(json);
    }

    @Test
    void schemesProblemsAndTheVertxRoutesAreDescribed() throws Exception {
        JsonPath doc = document();
        assertThat(doc.getString("components.securitySchemes.basicAuth.scheme")).isEqualTo("basic");
        assertThat(doc.getString("components.securitySchemes.bearerAuth.scheme"))
                .isEqualTo("bearer");
        assertThat(doc.getMap("components.schemas.Problem.properties"))
                .containsKeys("type", "title", "status", "detail");

        Map<String, Map<String, Object>> paths = doc.getMap("paths");
        assertThat(paths)
                .containsKeys(
                        "/issuers/{id}/.well-known/jwks.json",
                        "/v1/events",
                        "/v1/events/stream",
                        "/v1/issuers",
                        "/v1/issuers/{id}/sign",
                        "/v1/verify",
                        "/v1/audit");
        List<String> faults = new ArrayList<>();
        paths.forEach((path, item) -> item.forEach((method, o) -> {
            if (!METHODS.contains(method)) {
                return;
            }
            @SuppressWarnings("unchecked")
            Map<String, Map<String, Object>> responses =
                    (Map<String, Map<String, Object>>) ((Map<String, Object>) o).get("responses");
            if (responses == null || responses.isEmpty()) {
                faults.add(method + " " + path + ": no responses");
                return;
            }
            if (responses.containsKey("204")) {
                faults.add(method + " " + path + ": documents 204, which nothing answers");
            }
            if (responses.keySet().stream().noneMatch(s -> s.startsWith("2"))) {
                faults.add(method + " " + path + ": no success status");
            }
            responses.forEach((status, r) -> {
                if (status.startsWith("4") || status.startsWith("5")) {
                    Object ref = new JsonPath(toJson(r)).get("content.'application/problem+json'.schema.$ref");
                    if (!"#/components/schemas/Problem".equals(ref)) {
                        faults.add(method + " " + path + " " + status + ": not a Problem");
                    }
                }
            });
            Object security = ((Map<?, ?>) o).get("security");
            boolean secured = security instanceof List<?> l && !l.isEmpty();
            if (path.startsWith("/v1/")
                    && !path.startsWith("/v1/events")
                    && !path.equals("/v1/trust-anchor")
                    && !secured) {
                faults.add(method + " " + path + ": no security requirement");
            }
        }));
        assertThat(faults).isEmpty();

        String jwks = "paths.'/issuers/{id}/.well-known/jwks.json'.get.responses";
        assertThat(doc.getMap(jwks)).containsKeys("200", "304", "404").doesNotContainKey("204");
        assertThat(doc.getString(jwks + ".'200'.content.'application/json'.schema.$ref"))
                .isEqualTo("#/components/schemas/Jwks");
        assertThat(doc.getMap("paths.'/v1/events/stream'.get.responses.'200'.content"))
                .containsKey("text/event-stream");
        assertThat(doc.getMap("paths.'/v1/issuers/{id}/sign'.post.responses"))
                .containsKeys("200", "401", "403", "429", "503")
                .doesNotContainKey("201");
        assertThat(doc.getMap("paths.'/v1/issuers/{id}/rotations'.post.responses"))
                .containsKeys("200", "201");
    }

    @Test
    void everyOperationAnswersOnlyWhatItDocuments() throws Exception {
        JsonPath doc = document();
        String issuer = Api.createIssuer("oas");
        String kid = Api.rotate(issuer);
        String request = Api.as("alice")
                .get("/v1/activations?issuer=" + issuer)
                .then()
                .extract()
                .path("[0].id");
        Map<String, Map<String, Object>> paths = doc.getMap("paths");
        List<String> faults = new ArrayList<>();
        int checked = 0;
        for (var entry : paths.entrySet()) {
            String template = entry.getKey();
            String url = template.replace("{kid}", kid)
                    .replace("{sequence}", "1")
                    .replace("{version}", "1")
                    .replace("{id}", template.startsWith("/v1/activations") ? request : issuer);
            if (template.equals("/v1/events/stream")) {
                url += "?after=not-a-number"; // a good request would stream forever
            }
            for (String method : entry.getValue().keySet()) {
                if (!METHODS.contains(method)) {
                    continue;
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> responses = (Map<String, Object>)
                        ((Map<String, Object>) entry.getValue().get(method)).get("responses");
                for (String user : new String[] {null, "admin", "auditor"}) {
                    Response r = (user == null ? given() : Api.as(user))
                            .contentType("application/json")
                            .body("{}")
                            .request(method.toUpperCase(java.util.Locale.ROOT), url);
                    checked++;
                    if (!responses.containsKey(String.valueOf(r.statusCode()))) {
                        faults.add(method + " " + template + " as " + user + " answered " + r.statusCode()
                                + ", documented " + responses.keySet());
                    }
                }
            }
        }
        assertThat(checked).isGreaterThan(40);
        assertThat(faults).isEmpty();
    }

    private static String toJson(Object o) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
