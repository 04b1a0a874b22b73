package dev.keyhold.console;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.not;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The console's login, sessions, CSRF checks and error pages, over plain HTTP (the browser tests drive the pages). */
@QuarkusTest
class ConsoleAccessTest {

    @Inject
    Sql sql;

    /** Logs in through the login form and returns the session cookie. */
    static String login(String user) {
        Response r = given().redirects()
                .follow(false)
                .contentType(ContentType.URLENC)
                .formParam("j_username", user)
                .formParam("j_password", Api.PASSWORD)
                .post("/console/j_security_check");
        assertThat(r.statusCode()).isEqualTo(302);
        String session = r.cookie("keyhold-console");
        assertThat(session).as("session cookie").isNotBlank();
        return session;
    }

    /** A console page's CSRF token (cookie and form field carry the same value). */
    static String csrf(String session) {
        return given().redirects()
                .follow(false)
                .cookie("keyhold-console", session)
                .get("/console/issuers")
                .then()
                .statusCode(200)
                .extract()
                .cookie("keyhold-csrf");
    }

    @Test
    void anonymousVisitorsAreSentToTheLoginPageAndBasicDoesNotOpenTheConsole() {
        given().redirects()
                .follow(false)
                .get("/console/requests")
                .then()
                .statusCode(302)
                .header("Location", endsWith("/console/login"));
        given().redirects()
                .follow(false)
                .auth()
                .preemptive()
                .basic("alice", Api.PASSWORD)
                .get("/console/requests")
                .then()
                .statusCode(302)
                .header("Location", endsWith("/console/login"));
        given().get("/console/login")
                .then()
                .statusCode(200)
                .contentType(containsString("text/html"))
                .body(containsString("j_security_check"));
        given().redirects()
                .follow(false)
                .contentType(ContentType.URLENC)
                .formParam("j_username", "alice")
                .formParam("j_password", "wrong")
                .post("/console/j_security_check")
                .then()
                .statusCode(303)
                .header("Location", containsString("/console/login?error"));
    }

    @Test
    void sessionAndCsrfCookiesAreHttpOnlySameSiteAndScopedToTheConsole() {
        Response r = given().redirects()
                .follow(false)
                .contentType(ContentType.URLENC)
                .formParam("j_username", "alice")
                .formParam("j_password", Api.PASSWORD)
                .post("/console/j_security_check");
        String setCookie = String.join("\n", r.headers().getValues("Set-Cookie"));
        assertThat(setCookie)
                .containsPattern("keyhold-console=[^;]+;.*Path=/console")
                .containsIgnoringCase("HttpOnly")
                .containsIgnoringCase("SameSite=Strict");
        String session = r.cookie("keyhold-console");
        Response page = given().cookie("keyhold-console", session).get("/console/requests");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.contentType()).contains("text/html");
        String csrfCookie = String.join("\n", page.headers().getValues("Set-Cookie"));
        assertThat(csrfCookie)
                .contains("keyhold-csrf=")
                .contains("Path=/console")
                .containsIgnoringCase("HttpOnly")
                .containsIgnoringCase("SameSite=Strict");
        // the API neither needs nor sets console cookies
        Response api = Api.as("alice").get("/v1/issuers");
        assertThat(api.statusCode()).isEqualTo(200);
        assertThat(api.headers().getValues("Set-Cookie")).isEmpty();
    }

    @Test
    void formsWithoutTheCsrfTokenAreRefusedAndChangeNothing() {
        String id = Api.createIssuer("console-csrf");
        String session = login("alice");
        String token = csrf(session);
        // no token, a wrong token, a token without its cookie: all refused with a page, nothing suspended
        given().cookie("keyhold-console", session)
                .cookie("keyhold-csrf", token)
                .contentType(ContentType.URLENC)
                .formParam("reason", "x")
                .formParam("confirmed", "yes")
                .post("/console/issuers/" + id + "/suspend")
                .then()
                .statusCode(403)
                .contentType(containsString("text/html"))
                .body(containsString("Form expired"));
        given().cookie("keyhold-console", session)
                .cookie("keyhold-csrf", token)
                .contentType(ContentType.URLENC)
                .formParam("reason", "x")
                .formParam("confirmed", "yes")
                .formParam("csrf", token.substring(1) + "A")
                .post("/console/issuers/" + id + "/suspend")
                .then()
                .statusCode(403);
        given().cookie("keyhold-console", session)
                .contentType(ContentType.URLENC)
                .formParam("reason", "x")
                .formParam("confirmed", "yes")
                .formParam("csrf", token)
                .post("/console/issuers/" + id + "/suspend")
                .then()
                .statusCode(403);
        Api.as("admin")
                .get("/v1/issuers/" + id)
                .then()
                .statusCode(200)
                .body("status", org.hamcrest.Matchers.equalTo("ACTIVE"));
        // with it, the same form works
        given().redirects()
                .follow(false)
                .cookie("keyhold-console", session)
                .cookie("keyhold-csrf", token)
                .contentType(ContentType.URLENC)
                .formParam("reason", "drill")
                .formParam("confirmed", "yes")
                .formParam("csrf", token)
                .post("/console/issuers/" + id + "/suspend")
                .then()
                .statusCode(303)
                .header("Location", endsWith("/console/issuers/" + id + "?done=suspended"));
        Api.as("admin")
                .get("/v1/issuers/" + id)
                .then()
                .statusCode(200)
                .body("status", org.hamcrest.Matchers.equalTo("SUSPENDED"));
    }

    @Test
    void formsPostedFromAnotherSiteAreRefusedTheLoginIncluded() {
        // Login CSRF: another site's page posts the attacker's credentials so the custodian works in the attacker's
        // session. The browser names the sender; a foreign one gets no session.
        for (Map<String, String> foreign : List.of(
                Map.of("Origin", "https://evil.example"),
                Map.of("Sec-Fetch-Site", "cross-site"),
                Map.of("Sec-Fetch-Site", "same-site"),
                Map.of("Origin", "null"),
                Map.of("Origin", "http://localhost:1"))) {
            Response r = given().redirects()
                    .follow(false)
                    .headers(foreign)
                    .contentType(ContentType.URLENC)
                    .formParam("j_username", "alice")
                    .formParam("j_password", Api.PASSWORD)
                    .post("/console/j_security_check");
            assertThat(r.statusCode()).as("login posted with %s", foreign).isEqualTo(403);
            assertThat(r.contentType()).contains("text/html");
            assertThat(r.headers().getValues("Set-Cookie"))
                    .as("no session for %s", foreign)
                    .isEmpty();
        }
        // the console's own page: same origin, signed in
        String self = "http://localhost:" + io.restassured.RestAssured.port;
        given().redirects()
                .follow(false)
                .header("Origin", self)
                .header("Sec-Fetch-Site", "same-origin")
                .contentType(ContentType.URLENC)
                .formParam("j_username", "alice")
                .formParam("j_password", Api.PASSWORD)
                .post("/console/j_security_check")
                .then()
                .statusCode(302)
                .cookie("keyhold-console");
        // a form with a valid token but sent from another site changes nothing
        String id = Api.createIssuer("console-origin");
        String session = login("alice");
        String token = csrf(session);
        given().redirects()
                .follow(false)
                .header("Origin", "https://evil.example")
                .cookie("keyhold-console", session)
                .cookie("keyhold-csrf", token)
                .contentType(ContentType.URLENC)
                .formParam("reason", "x")
                .formParam("confirmed", "yes")
                .formParam("csrf", token)
                .post("/console/issuers/" + id + "/suspend")
                .then()
                .statusCode(403);
        Api.as("admin")
                .get("/v1/issuers/" + id)
                .then()
                .statusCode(200)
                .body("status", org.hamcrest.Matchers.equalTo("ACTIVE"));
        given().redirects()
                .follow(false)
                .header("Origin", self)
                .cookie("keyhold-console", session)
                .cookie("keyhold-csrf", token)
                .contentType(ContentType.URLENC)
                .formParam("reason", "drill")
                .formParam("confirmed", "yes")
                .formParam("csrf", token)
                .post("/console/issuers/" + id + "/suspend")
                .then()
                .statusCode(303);
        Api.as("admin")
                .get("/v1/issuers/" + id)
                .then()
                .statusCode(200)
                .body("status", org.hamcrest.Matchers.equalTo("SUSPENDED"));
    }

    @Test
    void errorsArePagesWithoutStackTraces() {
        String session = login("alice");
        given().cookie("keyhold-console", session)
                .get("/console/requests/" + UUID.randomUUID())
                .then()
                .statusCode(404)
                .contentType(containsString("text/html"))
                .body(containsString("404"), not(containsString("Exception")), not(containsString("at dev.keyhold")));
        given().cookie("keyhold-console", session)
                .get("/console/issuers/no-such-issuer")
                .then()
                .statusCode(404)
                .contentType(containsString("text/html"));
        given().cookie("keyhold-console", session)
                .get("/console/nothing-here")
                .then()
                .statusCode(404)
                .contentType(containsString("text/html"));
        // the audit trail is the auditors': 403 page, and the refusal is audited
        long before = sql.count("select count(*) from audit_record where actor = 'alice' and action = 'request.denied'"
                + " and outcome = 'denied' and details::jsonb->>'path' = '/console/audit'");
        given().cookie("keyhold-console", session)
                .get("/console/audit")
                .then()
                .statusCode(403)
                .contentType(containsString("text/html"))
                .body(containsString("403"));
        assertThat(sql.count("select count(*) from audit_record where actor = 'alice' and action = 'request.denied'"
                        + " and outcome = 'denied' and details::jsonb->>'path' = '/console/audit'"))
                .isEqualTo(before + 1);
        // a signer has no business in the console
        given().cookie("keyhold-console", login("signer"))
                .get("/console/requests")
                .then()
                .statusCode(403)
                .contentType(containsString("text/html"));
        // a suspend without a reason is refused with a page saying so
        String id = Api.createIssuer("console-reason");
        String token = csrf(session);
        given().cookie("keyhold-console", session)
                .cookie("keyhold-csrf", token)
                .contentType(ContentType.URLENC)
                .formParam("reason", " ")
                .formParam("csrf", token)
                .post("/console/issuers/" + id + "/suspend")
                .then()
                .statusCode(422)
                .contentType(containsString("text/html"))
                .body(containsString("reason"));
    }

    @Test
    void aPolicyChangeShowsItsDiffAndASecondDecisionIsA409Page() {
        String id = Api.createIssuer("console-diff");
        String request = Api.as("admin")
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
        String session = login("alice");
        String page = given().cookie("keyhold-console", session)
                .get("/console/requests/" + request)
                .then()
                .statusCode(200)
                .extract()
                .asString();
        assertThat(page)
                .contains(
                        "Policy change",
                        "carol leaves",
                        "<th scope=\"row\">custodians</th><td>alice, bob, carol</td><td>alice, bob, dave</td>",
                        "<th scope=\"row\">approvalsRequired</th><td>2</td><td>3</td>",
                        "<th scope=\"row\">tokenTtl</th><td>PT1H</td><td>PT30M</td>")
                .doesNotContain("<th scope=\"row\">signers</th>");
        String token = csrf(session);
        given().redirects()
                .follow(false)
                .cookie("keyhold-console", session)
                .cookie("keyhold-csrf", token)
                .contentType(ContentType.URLENC)
                .formParam("decision", "approve")
                .formParam("csrf", token)
                .formParam("signature", (String)
                        dev.keyhold.testsupport.Api.signature("alice", request).get("value"))
                .post("/console/requests/" + request + "/decision")
                .then()
                .statusCode(303);
        given().cookie("keyhold-console", session)
                .cookie("keyhold-csrf", token)
                .contentType(ContentType.URLENC)
                .formParam("decision", "approve")
                .formParam("csrf", token)
                .formParam("signature", (String)
                        dev.keyhold.testsupport.Api.signature("alice", request).get("value"))
                .post("/console/requests/" + request + "/decision")
                .then()
                .statusCode(409)
                .contentType(containsString("text/html"))
                .body(containsString("already decided"));
    }

    @Test
    void logoutEndsTheSession() {
        String session = login("bob");
        String token = csrf(session);
        Response out = given().redirects()
                .follow(false)
                .cookie("keyhold-console", session)
                .cookie("keyhold-csrf", token)
                .contentType(ContentType.URLENC)
                .formParam("csrf", token)
                .post("/console/logout");
        assertThat(out.statusCode()).isEqualTo(303);
        assertThat(out.header("Location")).endsWith("/console/logged-out");
        assertThat(String.join("\n", out.headers().getValues("Set-Cookie")))
                .containsPattern("keyhold-console=;.*Max-Age=0");
        given().get("/console/logged-out").then().statusCode(200).body(containsString("signed out"));
    }
}
