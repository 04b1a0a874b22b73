package dev.keyhold.error;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.LogCapture;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.config.EncoderConfig;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A hostile client's sweep : every endpoint, unauthenticated and as each role, with malformed
 * credentials, bodies, query parameters and paths. Nothing may answer 5xx, every refusal is a problem document,
 * and nothing may log a stack trace or an error.
 */
@QuarkusTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileInputSweepTest {

    private String issuer;
    private String kid;
    private String request;

    void setUp() {
        if (issuer != null) {
            return;
        }
        issuer = Api.createIssuer("sweep");
        kid = Api.rotate(issuer);
        request = Api.as("alice")
                .get("/v1/activations?issuer=" + issuer)
                .then()
                .statusCode(200)
                .extract()
                .path("[0].id");
    }

    record Endpoint(String method, String path) {}

    private List<Endpoint> endpoints() {
        setUp();
        String i = issuer;
        return List.of(
                new Endpoint("GET", "/issuers/" + i + "/.well-known/jwks.json"),
                new Endpoint("GET", "/v1/events"),
                new Endpoint("POST", "/v1/issuers"),
                new Endpoint("GET", "/v1/issuers"),
                new Endpoint("GET", "/v1/issuers/" + i),
                new Endpoint("POST", "/v1/issuers/" + i + "/suspend"),
                new Endpoint("POST", "/v1/issuers/" + i + "/resume"),
                new Endpoint("POST", "/v1/issuers/" + i + "/policy-changes"),
                new Endpoint("POST", "/v1/issuers/" + i + "/rotations"),
                new Endpoint("POST", "/v1/issuers/" + i + "/sign"),
                new Endpoint("GET", "/v1/issuers/" + i + "/keys"),
                new Endpoint("GET", "/v1/keys/" + kid),
                new Endpoint("POST", "/v1/keys/" + kid + "/revoke"),
                new Endpoint("GET", "/v1/keys/" + kid + "/history"),
                new Endpoint("GET", "/v1/activations"),
                new Endpoint("GET", "/v1/activations/" + request),
                new Endpoint("POST", "/v1/activations/" + request + "/decisions"),
                new Endpoint("GET", "/v1/audit"),
                new Endpoint("GET", "/v1/audit/verify"),
                new Endpoint("POST", "/v1/audit/checkpoints"),
                new Endpoint("POST", "/v1/verify"));
    }

    private static String basic(String raw) {
        return "Basic " + Base64.getEncoder().encodeToString(raw.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Authorization headers a hostile client sends. */
    private static final List<String> BAD_AUTHORIZATION = List.of(
            "Basic !!!not-base64!!!",
            "Basic YWRt aW46a2V5aG9sZC1kZXY=",
            "Basic ",
            "Basic",
            "Basic YWRtaW4=",
            "Basic " + Base64.getEncoder().encodeToString(new byte[] {(byte) 0xff, (byte) 0xfe, ':', (byte) 0x80}),
            "Basic YWRtaW46a2V5aG9sZC1kZXY",
            "Basic YWRtaW46a2V5aG9sZC1kZXY===",
            basic(":"),
            basic("admin:"),
            basic("admin:wrong"),
            "Bearer",
            "Bearer ",
            "Bearer not.a.jwt",
            "Bearer a.b",
            "Bearer ey==.ey==.x",
            "Negotiate abc",
            "basic "
                    + Base64.getEncoder()
                            .encodeToString("admin:keyhold-dev".getBytes())
                            .replace("=", "%"));

    /** Bodies that must be refused with 400 (or a refusal before the body is read). */
    private static final List<String> BAD_BODIES = List.of(
            "{",
            "}",
            "[",
            "null",
            "[]",
            "\"text\"",
            "123",
            "{\"a\":1,\"a\":2}",
            "{\"decision\":\"reject\",\"decision\":\"approve\"}",
            "{\"token\":\"a\",\"token\":\"b\"}",
            "{\"reason\":\"x\",\"reason\":\"y\"}",
            "{\"claims\":{\"aud\":\"x\",\"aud\":\"y\"}}",
            "{\"claims\":{\"n\":1e400}}",
            "{\"claims\":{\"n\":-1e400}}",
            "{\"claims\":{\"n\":NaN}}",
            "{\"approvalsRequired\":2.9}",
            "{\"approvalsRequired\":\"3\"}",
            "{\"approvalsRequired\":1e400}",
            "{\"approvalsRequired\":99999999999999999999}",
            "{\"token\":123}",
            "{\"token\":[\"a\"]}",
            "{\"reason\":{\"x\":1}}",
            "{\"decision\":true}",
            "{\"claims\":\"x\"}",
            "{\"ttl\":\"P-1D\",\"claims\":{}}",
            "{\"toSequence\":\"1\"}",
            "{\"reason\":\"a\\u0000b\"}",
            "{\"reason\":\"\\ud800\"}",
            "{\"decision\":\"reject\",\"comment\":\"\\u0000\"}",
            "\u0000",
            "{\"a\":\"\\ud800\"}",
            "[".repeat(5000),
            "{\"a\":" + "[".repeat(3000));

    private static final List<String> BAD_QUERIES = List.of(
            "limit=abc",
            "limit=-1",
            "limit=0",
            "limit=99999999999999999999",
            "after=abc",
            "after=-5",
            "after=99999999999999999999",
            "from=+999999999-12-31T23:59:59Z",
            "to=-999999999-01-01T00:00:00Z",
            "from=2026-13-45T99:99:99Z",
            "from=0000-01-01T00:00:00Z",
            "state=BOGUS",
            "issuer=%00",
            "kid=" + "k".repeat(5000),
            "limit=1e3",
            "limit=%20",
            "after=0x10");

    /** The principal allowed to call each endpoint, so bodies and queries reach the code that reads them. */
    private static String allowed(Endpoint e) {
        String p = e.path();
        if (p.startsWith("/issuers/") || p.startsWith("/v1/events")) {
            return null;
        }
        if (p.endsWith("/sign")) {
            return "signer";
        }
        if (p.endsWith("/decisions")) {
            return "bob";
        }
        if (p.startsWith("/v1/audit") || p.endsWith("/history") || p.equals("/v1/verify")) {
            return "auditor";
        }
        if (p.endsWith("/rotations")) {
            return "scheduler";
        }
        return "admin";
    }

    @Test
    void noEndpointAnswers5xxOrLogsAStackTrace() {
        List<String> failures = new ArrayList<>();
        try (LogCapture log = LogCapture.start()) {
            for (Endpoint e : endpoints()) {
                // unauthenticated, with malformed credentials
                for (String auth : BAD_AUTHORIZATION) {
                    check(
                            failures,
                            e,
                            "auth " + auth,
                            given().header("Authorization", auth)
                                    .contentType("application/json")
                                    .body("{}"),
                            e.path());
                }
                // as the principal the endpoint admits, and as one it does not
                String user = allowed(e);
                if (e.method().equals("POST")) {
                    for (String body : BAD_BODIES) {
                        check(
                                failures,
                                e,
                                user + " body " + abbreviate(body),
                                spec(user).body(body),
                                e.path());
                    }
                    check(failures, e, "signer body", spec("signer").body(BAD_BODIES.get(7)), e.path());
                } else {
                    for (String q : BAD_QUERIES) {
                        check(failures, e, user + " query " + q, spec(user), e.path() + "?" + q);
                    }
                }
                check(
                        failures,
                        e,
                        user + " wrong content type",
                        spec(user).contentType("text/plain").body("x"),
                        e.path());
                check(failures, e, "unauthenticated", spec(null).body("{}"), e.path());
            }
            // Path segments that are not ids.
            for (String bad : List.of("%00", "%ff%fe", "..%2f..", "a%20b", "x".repeat(3000), "%25", "%C0%AF")) {
                for (String p : List.of(
                        "/issuers/" + bad + "/.well-known/jwks.json",
                        "/v1/issuers/" + bad,
                        "/v1/keys/" + bad,
                        "/v1/activations/" + bad,
                        "/v1/keys/" + bad + "/history",
                        "/v1/issuers/" + bad + "/keys",
                        "/v1/issuers/" + bad + "/rotations")) {
                    String method = p.endsWith("/rotations") ? "POST" : "GET";
                    check(
                            failures,
                            new Endpoint(method, p),
                            "admin path",
                            spec("admin").body("{}"),
                            p);
                    check(
                            failures,
                            new Endpoint(method, p),
                            "auditor path",
                            spec("auditor").body("{}"),
                            p);
                }
            }
            // Oversized headers and URLs, on a public and a credentialed route.
            for (String p : List.of("/v1/events", "/v1/issuers", "/issuers/" + issuer + "/.well-known/jwks.json")) {
                check(
                        failures,
                        new Endpoint("GET", p),
                        "big header",
                        spec("admin").header("X-Big", "x".repeat(30_000)),
                        p);
                check(failures, new Endpoint("GET", p), "big url", spec("admin"), p + "?q=" + "y".repeat(10_000));
            }
            assertThat(failures).isEmpty();
            assertThat(log.stackTracesAndErrors()).isEmpty();
        }
    }

    private static <T> List<T> prepend(T first, List<T> rest) {
        List<T> all = new ArrayList<>();
        all.add(first);
        all.addAll(rest);
        return all;
    }

    private static RequestSpecification spec(String user) {
        RequestSpecification s =
                user == null ? given() : given().auth().preemptive().basic(user, Api.PASSWORD);
        return s.contentType("application/json")
                .config(RestAssured.config()
                        .encoderConfig(EncoderConfig.encoderConfig()
                                .appendDefaultContentCharsetToContentTypeIfUndefined(false)));
    }

    private static void check(List<String> failures, Endpoint e, String what, RequestSpecification s, String url) {
        Response r = s.urlEncodingEnabled(false).request(e.method(), url);
        int status = r.statusCode();
        String where = e.method() + " " + abbreviate(url) + " [" + what + "] -> " + status;
        if (status >= 500) {
            failures.add(where + " " + abbreviate(r.asString()));
        } else if (status >= 400 && !String.valueOf(r.contentType()).startsWith("application/problem+json")) {
            failures.add(where + " not a problem: " + r.contentType());
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 120 ? s.substring(0, 120) + "…(" + s.length() + ")" : s;
    }
}
