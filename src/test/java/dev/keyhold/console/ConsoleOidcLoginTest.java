package dev.keyhold.console;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import dev.keyhold.security.BearerTokenTest;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.keycloak.KeycloakServer;
import dev.keyhold.testsupport.keycloak.OidcConsoleProfile;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.net.URL;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console's production login: OpenID Connect authorization-code flow against a real Keycloak (child process,
 * realm imported, roles in the {@code groups} claim). A custodian logs in on Keycloak's own page, decides a request,
 * and logs out (which ends the Keycloak session too). The API keeps its own authentication meanwhile.
 */
@QuarkusTest
@TestProfile(OidcConsoleProfile.class)
class ConsoleOidcLoginTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TestHTTPResource("/")
    URL root;

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @AfterEach
    void resetClock() {
        clock.reset();
    }

    /** A token of the API's bearer provider (test key), named by preferred_username as this profile asks. */
    static String bearer(String user, String role) throws Exception {
        com.nimbusds.jwt.JWTClaimsSet claims = new com.nimbusds.jwt.JWTClaimsSet.Builder()
                .issuer("https://idp.test.example")
                .subject("id-of-" + user)
                .audience(BearerTokenTest.AUDIENCE)
                .claim("preferred_username", user)
                .claim("groups", java.util.List.of(role))
                .issueTime(new java.util.Date())
                .expirationTime(new java.util.Date(System.currentTimeMillis() + 300_000))
                .build();
        com.nimbusds.jwt.SignedJWT jwt = new com.nimbusds.jwt.SignedJWT(
                new com.nimbusds.jose.JWSHeader.Builder(com.nimbusds.jose.JWSAlgorithm.RS256).build(), claims);
        jwt.sign(new com.nimbusds.jose.crypto.RSASSASigner(BearerTokenTest.providerKey()));
        return jwt.serialize();
    }

    @Test
    void aCustodianLogsInThroughKeycloakDecidesARequestAndLogsOut() throws Exception {
        String id = Api.createIssuer("console-oidc");
        String kid = Api.rotate(id);
        String request =
                (String) sql.one("select id::text from activation_request where kid = ? and state = 'OPEN'", kid);

        // no form login here: the console sends people to the provider
        given().redirects()
                .follow(false)
                .get("/console/requests")
                .then()
                .statusCode(302)
                .header("Location", containsString(KeycloakServer.realmUrl() + "/protocol/openid-connect/auth"));
        // and the API still takes Basic (embedded users) and refuses anonymous callers with its own 401
        Api.as("admin").get("/v1/issuers/" + id).then().statusCode(200);
        given().get("/v1/issuers/" + id).then().statusCode(401);
        // bearer tokens stay with the API's own verifier (smallrye-jwt), and do not open the console
        String bearer = bearer("ops-robot", "admin");
        given().auth().oauth2(bearer).get("/v1/issuers/" + id).then().statusCode(200);
        given().redirects()
                .follow(false)
                .auth()
                .oauth2(bearer)
                .get("/console/requests")
                .then()
                .statusCode(302)
                .header("Location", containsString(KeycloakServer.realmUrl()));

        ChromeDriver browser = ConsoleBrowsers.open();
        try {
            browser.get(root + "console/requests");
            WebElement user = new WebDriverWait(browser, WAIT)
                    .until(ExpectedConditions.presenceOfElementLocated(By.id("username")));
            assertThat(browser.getCurrentUrl()).startsWith(KeycloakServer.realmUrl());
            ConsoleBrowsers.screenshot(browser, "keycloak-login");
            user.sendKeys("alice");
            browser.findElement(By.id("password")).sendKeys("alice-keycloak");
            browser.findElement(By.id("kc-login")).click();

            WebElement who;
            try {
                who = new WebDriverWait(browser, WAIT).until(ExpectedConditions.presenceOfElementLocated(By.id("who")));
            } catch (org.openqa.selenium.TimeoutException e) {
                ConsoleBrowsers.screenshot(browser, "oidc-after-login-failed");
                throw new AssertionError(
                        "no console page after the Keycloak login; at " + browser.getCurrentUrl() + ":\n"
                                + browser.findElement(By.tagName("body")).getText(),
                        e);
            }
            assertThat(who.getText()).contains("alice").contains("custodian");
            assertThat(browser.getCurrentUrl()).startsWith(root + "console/requests");
            WebElement card = browser.findElement(By.id("request-" + request));
            card.findElement(By.name("comment")).sendKeys("approved after an OpenID Connect login");
            // an approval is alice's SSH signature over the request's statement, pasted as she would after signing it
            // in a terminal (the test custodians' SSH keys, testsupport/CustodianKeys)
            card.findElement(By.cssSelector(".ssh-approve summary")).click();
            browser.executeScript(
                    "arguments[0].value = arguments[1];",
                    card.findElement(By.name("signature")),
                    Api.signature("alice", request).get("value"));
            card.findElement(By.cssSelector("button.approve-ssh")).click();
            new WebDriverWait(browser, WAIT).until(ExpectedConditions.presenceOfElementLocated(By.id("notice")));
            ConsoleBrowsers.screenshot(browser, "oidc-request-approved");
            Api.as("admin")
                    .get("/v1/activations/" + request)
                    .then()
                    .statusCode(200)
                    .body("approvals", equalTo(1))
                    .body("decisions.custodian", hasItem("alice"));

            browser.findElement(By.id("logout")).click();
            new WebDriverWait(browser, WAIT).until(ExpectedConditions.presenceOfElementLocated(By.id("logged-out")));
            // the provider's session ended too: the console asks for a password again
            browser.get(root + "console/requests");
            new WebDriverWait(browser, WAIT).until(ExpectedConditions.presenceOfElementLocated(By.id("username")));
            assertThat(browser.getCurrentUrl()).startsWith(KeycloakServer.realmUrl());
        } finally {
            browser.quit();
        }
    }
}
