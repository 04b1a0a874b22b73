package dev.keyhold.http;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.testsupport.Api;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The public documents over plain HTTP: HEAD answers like GET on every public GET route (same status, same headers, ETag
 * included, no body); the public documents carry CORS for any origin and answer preflights; the credentialed API
 * answers no CORS at all.
 */
@QuarkusTest
class PublicDocumentsHttpTest {

    /** Headers that legitimately differ between two answers, or between HEAD and GET framing. */
    private static final Set<String> VARYING =
            Set.of("date", "x-request-id", "transfer-encoding", "content-length", "connection");

    @Test
    void headAnswersLikeGetOnEveryPublicRoute() {
        String issuer = Api.createIssuer("head");
        Api.rotate(issuer);
        String jwks = "/issuers/" + issuer + "/.well-known/jwks.json";

        Response get = given().get(jwks);
        Response head = given().head(jwks);
        assertSame(get, head, 200);
        assertThat(head.header("ETag")).isNotBlank().isEqualTo(get.header("ETag"));
        assertThat(head.header("Content-Length"))
                .isEqualTo(get.header("Content-Length"))
                .isEqualTo(String.valueOf(get.asByteArray().length));

        String etag = get.header("ETag");
        assertSame(
                given().header("If-None-Match", etag).get(jwks),
                given().header("If-None-Match", etag).head(jwks),
                304);
        assertSame(
                given().get("/issuers/no-such-issuer/.well-known/jwks.json"),
                given().head("/issuers/no-such-issuer/.well-known/jwks.json"),
                404);

        assertSame(given().get("/v1/events?after=0&limit=5"), given().head("/v1/events?after=0&limit=5"), 200);
        assertSame(given().get("/v1/events?limit=abc"), given().head("/v1/events?limit=abc"), 400);
        assertSame(given().get("/v1/events/stream?after=x"), given().head("/v1/events/stream?after=x"), 400);

        // The stream: HEAD gets the stream's status and headers and ends; GET would stream forever.
        Response streamHead = given().head("/v1/events/stream?after=0");
        assertThat(streamHead.statusCode()).isEqualTo(200);
        assertThat(streamHead.header("Content-Type")).startsWith("text/event-stream");
        assertThat(streamHead.header("Access-Control-Allow-Origin")).isEqualTo("*");
        assertThat(streamHead.asByteArray()).isEmpty();

        // Authenticated GET routes answer HEAD the same way too (the mechanism is general).
        assertSame(Api.as("admin").get("/v1/issuers/" + issuer), Api.as("admin").head("/v1/issuers/" + issuer), 200);
        assertSame(given().get("/v1/issuers/" + issuer), given().head("/v1/issuers/" + issuer), 401);
    }

    private static void assertSame(Response get, Response head, int status) {
        assertThat(get.statusCode()).isEqualTo(status);
        assertThat(head.statusCode()).as("HEAD status").isEqualTo(status);
        assertThat(head.asByteArray()).as("HEAD has no body").isEmpty();
        assertThat(headers(head)).as("HEAD headers").isEqualTo(headers(get));
    }

    private static Map<String, List<String>> headers(Response r) {
        Map<String, List<String>> m = new TreeMap<>();
        r.headers().forEach(h -> {
            String name = h.getName().toLowerCase(java.util.Locale.ROOT);
            if (!VARYING.contains(name)) {
                m.computeIfAbsent(name, k -> new java.util.ArrayList<>()).add(h.getValue());
            }
        });
        return m;
    }

    @Test
    void publicDocumentsAllowAnyOriginAndAnswerPreflights() {
        String issuer = Api.createIssuer("cors");
        Api.rotate(issuer);
        String origin = "https://spa.example";
        for (String path : List.of(
                "/issuers/" + issuer + "/.well-known/jwks.json",
                "/v1/events",
                "/issuers/no-such/.well-known/jwks.json")) {
            Response r = given().header("Origin", origin).get(path);
            assertThat(r.header("Access-Control-Allow-Origin")).as(path).isEqualTo("*");
            assertThat(r.header("Access-Control-Allow-Credentials")).as(path).isNull();
            assertThat(r.header("Access-Control-Expose-Headers")).as(path).contains("ETag");

            Response pre = given().header("Origin", origin)
                    .header("Access-Control-Request-Method", "GET")
                    .header("Access-Control-Request-Headers", "if-none-match")
                    .options(path);
            assertThat(pre.statusCode()).as(path).isEqualTo(204);
            assertThat(pre.header("Access-Control-Allow-Origin")).isEqualTo("*");
            assertThat(pre.header("Access-Control-Allow-Methods")).contains("GET", "HEAD");
            assertThat(pre.header("Access-Control-Allow-Headers")).containsIgnoringCase("If-None-Match");
        }
        // 304 carries it too, or a browser's conditional request fails
        String etag =
                given().get("/issuers/" + issuer + "/.well-known/jwks.json").header("ETag");
        assertThat(given().header("Origin", origin)
                        .header("If-None-Match", etag)
                        .get("/issuers/" + issuer + "/.well-known/jwks.json")
                        .header("Access-Control-Allow-Origin"))
                .isEqualTo("*");
    }

    @Test
    void theCredentialedApiAnswersNoCors() {
        String origin = "https://evil.example";
        for (String path : List.of("/v1/issuers", "/v1/activations", "/v1/audit", "/v1/verify", "/q/metrics")) {
            Response plain = Api.as("admin").header("Origin", origin).get(path);
            assertThat(plain.header("Access-Control-Allow-Origin")).as(path).isNull();
            Response pre = given().header("Origin", origin)
                    .header("Access-Control-Request-Method", "POST")
                    .header("Access-Control-Request-Headers", "authorization,content-type")
                    .options(path);
            assertThat(pre.header("Access-Control-Allow-Origin")).as(path).isNull();
            assertThat(pre.header("Access-Control-Allow-Methods")).as(path).isNull();
            assertThat(pre.statusCode()).as(path).isLessThan(500);
        }
    }
}
