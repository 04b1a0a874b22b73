package dev.keyhold.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Browser;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The public documents in a real browser: a page on another origin reads the JWKS with plain {@code fetch} (what panva/jose's
 * {@code createRemoteJWKSet} does), also conditionally (If-None-Match forces a preflight), and the event feed; the same
 * page cannot read the credentialed API.
 */
@QuarkusTest
class CrossOriginBrowserTest {

    private static Browser browser;

    @BeforeAll
    static void startBrowser() {
        browser = Browser.start();
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.close();
        }
    }

    private static final String FETCH = """
            const [url, headers] = arguments;
            fetch(url, {headers: headers || {}})
              .then(r => r.text().then(t => done({status: r.status, etag: r.headers.get('ETag'), body: t})))
              .catch(e => done({error: String(e)}));
            """;

    @SuppressWarnings("unchecked")
    private static Map<String, Object> fetch(String url, Map<String, String> headers) {
        return (Map<String, Object>) browser.runAsync(FETCH, url, headers);
    }

    @Test
    void aPageOnAnotherOriginReadsTheJwksAndTheFeedButNotTheApi() {
        String issuer = Api.createIssuer("browser");
        String kid = Api.rotate(issuer);
        String keyhold = "http://localhost:" + RestAssured.port;
        String origin = browser.openPage("<!doctype html><title>relying party</title><p>validator</p>");
        assertThat(origin).isNotEqualTo(keyhold);

        Map<String, Object> jwks = fetch(keyhold + "/issuers/" + issuer + "/.well-known/jwks.json", null);
        assertThat(jwks).doesNotContainKey("error");
        assertThat(((Number) jwks.get("status")).intValue()).isEqualTo(200);
        assertThat((String) jwks.get("body")).contains(kid);
        assertThat((String) jwks.get("etag")).as("ETag is exposed to the page").isNotBlank();

        Map<String, Object> again = fetch(
                keyhold + "/issuers/" + issuer + "/.well-known/jwks.json",
                Map.of("If-None-Match", (String) jwks.get("etag"), "Cache-Control", "no-cache"));
        assertThat(again).as("preflighted conditional fetch").doesNotContainKey("error");
        assertThat(((Number) again.get("status")).intValue()).isIn(200, 304);

        Map<String, Object> events = fetch(keyhold + "/v1/events?after=0&limit=1", null);
        assertThat(events).doesNotContainKey("error");
        assertThat(((Number) events.get("status")).intValue()).isEqualTo(200);

        // The credentialed API: the browser refuses to hand the answer to the page.
        Map<String, Object> api = fetch(keyhold + "/v1/issuers", null);
        assertThat(api).containsKey("error");
        Map<String, Object> withAuth =
                fetch(keyhold + "/v1/issuers", Map.of("Authorization", "Basic YWRtaW46a2V5aG9sZC1kZXY="));
        assertThat(withAuth).containsKey("error");
    }
}
