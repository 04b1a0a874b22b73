package dev.keyhold.console;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.startsWith;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.SoftAuthenticator;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The console's passkey calls ({@code /console/api/…}) over plain HTTP: the console session, its CSRF token in a
 * header and its origin check guard them as they guard the forms; the relying-party settings bind what a passkey
 * signs; refused calls change nothing. (ConsolePasskeyTest drives the same calls from Chromium.)
 */
@QuarkusTest
class ConsolePasskeyAccessTest {

    @Inject
    Sql sql;

    @Test
    void passkeyCallsNeedTheCsrfHeaderAndTheConsolesOwnOriginAndChangeNothingOtherwise() {
        String session = ConsoleAccessTest.login("dave");
        String token = ConsoleAccessTest.csrf(session);
        long before = challenges("dave");

        console(session, token, null)
                .post("/console/api/credentials/challenges")
                .then()
                .statusCode(403)
                .contentType(containsString("json"))
                .body("detail", containsString("Reload the page"));
        console(session, token, token.substring(1) + "A")
                .post("/console/api/credentials/challenges")
                .then()
                .statusCode(403);
        console(session, token, token)
                .header("Origin", "https://evil.example")
                .post("/console/api/credentials/challenges")
                .then()
                .statusCode(403);
        console(session, token, token)
                .header("Sec-Fetch-Site", "cross-site")
                .post("/console/api/credentials/challenges")
                .then()
                .statusCode(403);
        assertThat(challenges("dave")).isEqualTo(before);

        console(session, token, token)
                .header("Origin", self())
                .header("Sec-Fetch-Site", "same-origin")
                .post("/console/api/credentials/challenges")
                .then()
                .statusCode(201)
                .body("challenge", startsWith("keyhold-enroll:"));
        assertThat(challenges("dave")).isEqualTo(before + 1);
    }

    @Test
    void aPasskeyEnrolsOnlyForTheConfiguredRelyingPartyAndOrigins() {
        String session = ConsoleAccessTest.login("erin");
        String token = ConsoleAccessTest.csrf(session);
        long before = passkeys("erin");
        SoftAuthenticator a = SoftAuthenticator.es256();

        byte[] challenge = challenge(session, token);
        enroll(session, token, challenge, a.register(challenge, "https://evil.example", "localhost"))
                .then()
                .statusCode(422)
                .body("detail", containsString("origin"));
        challenge = challenge(session, token);
        enroll(session, token, challenge, a.register(challenge, self(), "evil.example"))
                .then()
                .statusCode(422)
                .body("detail", containsString("rpIdHash"));
        assertThat(passkeys("erin")).isEqualTo(before);

        // the console's own origin (any port of http://localhost by default) and relying-party id
        challenge = challenge(session, token);
        enroll(session, token, challenge, a.register(challenge, self(), "localhost"))
                .then()
                .statusCode(201)
                .body("id", equalTo("webauthn:" + a.credentialIdB64()))
                .body("format", equalTo("webauthn"));
        assertThat(passkeys("erin")).isEqualTo(before + 1);
        given().cookie("keyhold-console", session)
                .get("/console/api/passkeys")
                .then()
                .statusCode(200)
                .body("rpId", equalTo("localhost"))
                .body("user", equalTo("erin"))
                .body("credentials.findAll { it.credentialId == '" + a.credentialIdB64() + "' }", hasSize(1));
        // a challenge signs once: the same registration again is refused
        enroll(session, token, challenge, a.register(challenge, self(), "localhost"))
                .then()
                .statusCode(422);

        // SSH keys are enrolled through the API, not the console
        Map<String, Object> ssh = Map.of("format", "sshsig", "publicKey", "ssh-ed25519 AAAA x", "signature", "x");
        console(session, token, token)
                .body(ssh)
                .post("/console/api/credentials")
                .then()
                .statusCode(422);
    }

    @Test
    void onlyCustodiansHavePasskeysAndTheApiPasswordDoesNotOpenTheConsolesCalls() {
        String session = ConsoleAccessTest.login("auditor");
        String token = ConsoleAccessTest.csrf(session);
        given().cookie("keyhold-console", session)
                .get("/console/api/passkeys")
                .then()
                .statusCode(403);
        console(session, token, token)
                .post("/console/api/credentials/challenges")
                .then()
                .statusCode(403);
        // Basic authentication (the API's, in embedded mode) is not a console session
        Response basic = given().redirects()
                .follow(false)
                .auth()
                .preemptive()
                .basic("alice", Api.PASSWORD)
                .get("/console/api/passkeys");
        assertThat(basic.statusCode()).isIn(302, 401);
        assertThat(basic.asString()).doesNotContain("credentials");
    }

    @Test
    void anApprovalThroughTheConsoleNeedsTheCsrfHeaderAndASignatureOverTheStatement() {
        String id = Api.createIssuer("console-api");
        String kid = Api.rotate(id);
        String request =
                (String) sql.one("select id::text from activation_request where kid = ? and state = 'OPEN'", kid);
        String session = ConsoleAccessTest.login("alice");
        String token = ConsoleAccessTest.csrf(session);

        // the console serves the statement's exact bytes, as the API does
        byte[] statement = given().cookie("keyhold-console", session)
                .get("/console/api/activations/" + request + "/statement")
                .then()
                .statusCode(200)
                .contentType(containsString("application/json"))
                .extract()
                .asByteArray();
        assertThat(statement)
                .isEqualTo(Api.as("alice")
                        .get("/v1/activations/" + request + "/statement")
                        .asByteArray());
        assertThat(new String(statement, StandardCharsets.UTF_8)).contains("\"request\":\"" + request + "\"");

        Map<String, Object> signed =
                new HashMap<>(Map.of("decision", "approve", "signature", Api.signature("alice", request)));
        String path = "/console/api/activations/" + request + "/decisions";
        console(session, token, null).body(signed).post(path).then().statusCode(403);
        console(session, token, token)
                .body(Map.of("decision", "approve"))
                .post(path)
                .then()
                .statusCode(422);
        Map<String, Object> otherSigner = Map.of("decision", "approve", "signature", Api.signature("bob", request));
        console(session, token, token).body(otherSigner).post(path).then().statusCode(422);
        assertThat(sql.count("select count(*) from activation_decision where request_id = ?::uuid", request))
                .isZero();

        console(session, token, token)
                .body(signed)
                .post(path)
                .then()
                .statusCode(200)
                .body("approvals", equalTo(1));
        assertThat(sql.count("select count(*) from activation_decision where request_id = ?::uuid", request))
                .isEqualTo(1);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private static RequestSpecification console(String session, String cookieToken, String headerToken) {
        RequestSpecification r = given().redirects()
                .follow(false)
                .cookie("keyhold-console", session)
                .cookie("keyhold-csrf", cookieToken)
                .contentType(ContentType.JSON)
                .body("{}");
        return headerToken == null ? r : r.header("X-Keyhold-Csrf", headerToken);
    }

    private static byte[] challenge(String session, String token) {
        String c = console(session, token, token)
                .post("/console/api/credentials/challenges")
                .then()
                .statusCode(201)
                .extract()
                .path("challenge");
        return c.getBytes(StandardCharsets.UTF_8);
    }

    /** Enrolls the registration as the console's script does: naming the challenge it answers. */
    private static Response enroll(String session, String token, byte[] challenge, SoftAuthenticator.Registration r) {
        return console(session, token, token)
                .body(Map.of(
                        "format",
                        "webauthn",
                        "attestationObject",
                        r.attestationObjectB64(),
                        "clientDataJSON",
                        r.clientDataJSONB64(),
                        "challenge",
                        new String(challenge, StandardCharsets.UTF_8)))
                .post("/console/api/credentials");
    }

    private long challenges(String principal) {
        return sql.count("select count(*) from custodian_challenge where principal = ?", principal);
    }

    private long passkeys(String principal) {
        return sql.count(
                "select count(*) from custodian_credential where principal = ? and format = 'webauthn'", principal);
    }

    private static String self() {
        return "http://localhost:" + RestAssured.port;
    }
}
