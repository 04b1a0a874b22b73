package dev.keyhold.http;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.testsupport.Api;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

/**
 * The cross-cutting route filters are registered on the routes they serve, not matched against every path: each
 * still applies where it belongs, and not elsewhere. The trust anchor is served from its rendered bytes with a
 * strong ETag, like the JWKS.
 */
@QuarkusTest
class RouteFilterScopeTest {

    @Test
    void requestIdsOnTheApiOnly() {
        String issuer = Api.createIssuer("scope-id");
        Api.rotate(issuer);
        Response api = Api.as("admin").header("X-Request-Id", "scope-test-1").get("/v1/issuers/" + issuer);
        assertThat(api.statusCode()).isEqualTo(200);
        assertThat(api.header("X-Request-Id")).isEqualTo("scope-test-1");
        assertThat(Api.as("admin").get("/v1/issuers/" + issuer).header("X-Request-Id"))
                .isNotBlank();
        // HEAD on the API is routed again as GET and gets its id too
        assertThat(Api.as("admin").head("/v1/issuers/" + issuer).header("X-Request-Id"))
                .isNotBlank();
        // a refusal of the API (401) carries one as well
        assertThat(given().get("/v1/issuers/" + issuer).header("X-Request-Id")).isNotBlank();
        Response jwks =
                given().header("X-Request-Id", "scope-test-2").get("/issuers/" + issuer + "/.well-known/jwks.json");
        assertThat(jwks.statusCode()).isEqualTo(200);
        assertThat(jwks.header("X-Request-Id"))
                .as("the public documents carry no request id")
                .isNull();
    }

    @Test
    void corsOnThePublicDocumentsOnly() {
        String issuer = Api.createIssuer("scope-cors");
        Api.rotate(issuer);
        for (String path : new String[] {
            "/issuers/" + issuer + "/.well-known/jwks.json", "/v1/trust-anchor", "/v1/events?after=0&limit=1"
        }) {
            assertThat(given().header("Origin", "https://rp.example").get(path).header("Access-Control-Allow-Origin"))
                    .as(path)
                    .isEqualTo("*");
        }
        // a path that only looks like one (one segment more) gets none
        assertThat(given().header("Origin", "https://rp.example")
                        .get("/issuers/" + issuer + "/.well-known/jwks.json/x")
                        .header("Access-Control-Allow-Origin"))
                .isNull();
        assertThat(Api.as("admin")
                        .header("Origin", "https://rp.example")
                        .get("/v1/issuers/" + issuer)
                        .header("Access-Control-Allow-Origin"))
                .isNull();
    }

    @Test
    void theConsoleOriginCheckGuardsConsolePostsOnly() {
        Response login = given().header("Origin", "https://evil.example")
                .header("Sec-Fetch-Site", "cross-site")
                .contentType("application/x-www-form-urlencoded")
                .body("j_username=alice&j_password=x")
                .post("/console/j_security_check");
        assertThat(login.statusCode()).isEqualTo(403);
        assertThat(login.header("Content-Type")).startsWith("text/html");
        assertThat(login.asString()).contains("sent from another site");
        // the same headers on the API are not the console's business (the API takes no cookies)
        Response api = Api.as("admin")
                .header("Origin", "https://evil.example")
                .header("Sec-Fetch-Site", "cross-site")
                .body("{}")
                .post("/v1/issuers");
        assertThat(api.asString()).doesNotContain("sent from another site");
        assertThat(api.header("Content-Type")).startsWith("application/problem+json");
        // and a console GET from another site is only a page view
        Response page = given().header("Origin", "https://evil.example")
                .header("Sec-Fetch-Site", "cross-site")
                .redirects()
                .follow(false)
                .get("/console/login");
        assertThat(page.statusCode()).isEqualTo(200);
    }

    @Test
    void malformedBasicCredentialsAreRefusedExceptOnThePublicDocuments() {
        String issuer = Api.createIssuer("scope-basic");
        Api.rotate(issuer);
        Response api = given().header("Authorization", "Basic not base64!").get("/v1/issuers/" + issuer);
        assertThat(api.statusCode()).isEqualTo(401);
        assertThat(api.header("Content-Type")).startsWith("application/problem+json");
        assertThat(given().header("Authorization", "Basic not base64!")
                        .get("/issuers/" + issuer + "/.well-known/jwks.json")
                        .statusCode())
                .isEqualTo(200);
    }

    @Test
    void theTrustAnchorHasAStrongEtagAnd304() {
        Response first = given().get("/v1/trust-anchor");
        assertThat(first.statusCode()).isEqualTo(200);
        String etag = first.header("ETag");
        assertThat(etag).matches("\"[A-Za-z0-9_-]{22}\"");
        assertThat(first.header("Content-Length")).isEqualTo(String.valueOf(first.asByteArray().length));
        Response again = given().get("/v1/trust-anchor");
        assertThat(again.asByteArray()).isEqualTo(first.asByteArray());
        assertThat(again.header("ETag")).isEqualTo(etag);
        Response notModified = given().header("If-None-Match", etag).get("/v1/trust-anchor");
        assertThat(notModified.statusCode()).isEqualTo(304);
        assertThat(notModified.asByteArray()).isEmpty();
        assertThat(given().header("If-None-Match", "\"other\"")
                        .get("/v1/trust-anchor")
                        .statusCode())
                .isEqualTo(200);
    }
}
