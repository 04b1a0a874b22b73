package dev.keyhold.console;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URL;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.openqa.selenium.virtualauthenticator.VirtualAuthenticator;
import org.openqa.selenium.virtualauthenticator.VirtualAuthenticatorOptions;

/**
 * Passkeys in the console, end to end: a real headless Chromium (Selenium, Debian's chromedriver) with Chromium's
 * virtual authenticator (DevTools WebAuthn: CTAP2, internal transport, resident keys, user verified) per browser, over
 * the real application (PostgreSQL, SoftHSM2). Custodians enroll passkeys from "My credentials", and approve a key's
 * activation with them after reading the statement; a passkey that is not the custodian's is refused by the server
 * and nothing is recorded.
 */
@QuarkusTest
class ConsolePasskeyTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static ChromeDriver one;
    private static ChromeDriver two;
    private static VirtualAuthenticator keyOne;
    private static VirtualAuthenticator keyTwo;

    @TestHTTPResource("/")
    URL root;

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @BeforeAll
    static void browsers() {
        one = ConsoleBrowsers.open();
        two = ConsoleBrowsers.open();
        keyOne = one.addVirtualAuthenticator(platformAuthenticator());
        keyTwo = two.addVirtualAuthenticator(platformAuthenticator());
    }

    @AfterAll
    static void close() {
        for (ChromeDriver d : new ChromeDriver[] {one, two}) {
            if (d != null) {
                d.quit();
            }
        }
    }

    @AfterEach
    void resetClock() {
        clock.reset();
    }

    @Test
    void
            twoCustodiansEnrollPasskeysApproveARotationWithThemAndTheKeyGoesActiveWhileAnotherCustodiansPasskeyIsRefused() {
        // alice and bob enroll a passkey each, each on their own device (browser with its own authenticator)
        login(one, "alice");
        String alice = enroll(one, keyOne, "alice");
        login(two, "bob");
        String bob = enroll(two, keyTwo, "bob");
        assertThat(alice).isNotEqualTo(bob);

        // an issuer created now names their passkeys in its policy version 1
        String id = Api.createIssuer("passkey");
        String policy = as("admin")
                .get("/v1/issuers/" + id + "/policy")
                .then()
                .statusCode(200)
                .extract()
                .path("document");
        assertThat(policy).contains("webauthn:" + alice, "webauthn:" + bob);
        String kid = Api.rotate(id);
        String request =
                (String) sql.one("select id::text from activation_request where kid = ? and state = 'OPEN'", kid);
        clock.advance(Duration.ofHours(3)); // past publishLead (PT2H): the approval activates at once

        // bob on alice's device: a page told to use alice's passkey signs, the server refuses, nothing is recorded
        login(one, "bob");
        go(one, "console/requests/" + request);
        one.executeScript(OFFER_ONLY, alice);
        int aliceCount = signCount(keyOne);
        openApproval(one, request);
        one.findElement(By.cssSelector("#passkey-" + request + " .sign-passkey"))
                .click();
        WebElement status = one.findElement(By.cssSelector("#passkey-" + request + " .passkey-status"));
        new WebDriverWait(one, WAIT).until(ExpectedConditions.textToBePresentInElement(status, "Not approved"));
        assertThat(signCount(keyOne)).as("alice's passkey did sign").isGreaterThan(aliceCount);
        assertThat(status.getText()).contains("another credential");
        ConsoleBrowsers.screenshot(one, "passkey-refused");
        assertThat(sql.count("select count(*) from activation_decision where request_id = ?::uuid", request))
                .isZero();
        as("admin")
                .get("/v1/activations/" + request)
                .then()
                .body("state", equalTo("OPEN"))
                .body("approvals", equalTo(0));
        as("admin").get("/v1/keys/" + kid).then().body("state", equalTo("PENDING"));

        // alice approves with her passkey: the statement is shown first, the passkey signs only when she confirms
        login(one, "alice");
        go(one, "console/requests/" + request);
        aliceCount = signCount(keyOne);
        WebElement panel = openApproval(one, request);
        assertThat(text(panel, ".st-issuer")).isEqualTo(id);
        assertThat(text(panel, ".st-kind")).contains("Key activation");
        assertThat(text(panel, ".st-subject")).contains(kid);
        assertThat(text(panel, ".st-requester")).isEqualTo("scheduler");
        assertThat(text(panel, ".st-policy")).startsWith("version 1 · sha256:");
        assertThat(text(panel, ".st-required")).isEqualTo("2");
        assertThat(text(panel, ".st-request")).isEqualTo(request);
        String statement = as("alice")
                .get("/v1/activations/" + request + "/statement")
                .then()
                .statusCode(200)
                .extract()
                .asString();
        assertThat(text(panel, ".st-digest")).isEqualTo(sha256(statement));
        assertThat(signCount(keyOne)).as("nothing signed before she confirms").isEqualTo(aliceCount);
        ConsoleBrowsers.screenshot(one, "passkey-statement");
        // readable at 400 px: the statement's long values wrap, nothing is wider than the window
        one.manage().window().setSize(new Dimension(400, 900));
        try {
            Number wide = (Number) one.executeScript("return document.documentElement.scrollWidth;");
            assertThat(wide.intValue()).isLessThanOrEqualTo(400);
            ConsoleBrowsers.screenshot(one, "passkey-statement-400px");
        } finally {
            one.manage().window().setSize(new Dimension(1280, 900));
        }
        one.findElement(By.id("comment-" + request)).sendKeys("kid checked against the HSM listing");
        panel.findElement(By.cssSelector(".sign-passkey")).click();
        waitFor(one, By.id("notice"));
        assertThat(signCount(keyOne)).isGreaterThan(aliceCount);
        assertThat(one.findElement(By.cssSelector(".approvals")).getText()).isEqualTo("1 of 2 needed");
        assertThat(one.getPageSource()).contains("kid checked against the HSM listing");

        login(two, "bob");
        go(two, "console/requests/" + request);
        openApproval(two, request).findElement(By.cssSelector(".sign-passkey")).click();
        waitFor(two, By.id("notice"));
        ConsoleBrowsers.screenshot(two, "passkey-approved");

        as("admin").get("/v1/keys/" + kid).then().statusCode(200).body("state", equalTo("ACTIVE"));
        assertThat(sql.count("select count(*) from activation_decision where request_id = ?::uuid", request))
                .isEqualTo(2);
        String decided = "select %s from activation_decision where request_id = ?::uuid and custodian = ?";
        assertThat(sql.one(decided.formatted("credential_id"), request, "alice"))
                .isEqualTo("webauthn:" + alice);
        assertThat(sql.one(decided.formatted("credential_id"), request, "bob")).isEqualTo("webauthn:" + bob);
        assertThat((String) sql.one(decided.formatted("signature"), request, "alice"))
                .contains("\"format\":\"webauthn\"");
        // and the key signs: the evidence (two passkey signatures over the statement) checks out at use
        Api.sign("signer", id, java.util.Map.of("claims", java.util.Map.of("sub", "u1", "aud", "api://" + id)))
                .then()
                .statusCode(200)
                .body("kid", equalTo(kid));
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    /**
     * Makes the page offer only the given credential to the browser (as a page altered by someone would): the
     * console's list of the custodian's passkeys, as the script fetches it, names that credential instead.
     */
    private static final String OFFER_ONLY = "var cred = arguments[0]; var orig = window.fetch;"
            + "window.fetch = function (url, init) {"
            + "  if (String(url).indexOf('/console/api/passkeys') >= 0) {"
            + "    return orig(url, init).then(function (r) { return r.json(); }).then(function (j) {"
            + "      j.credentials = [{ id: 'webauthn:' + cred, credentialId: cred, algorithm: 'ES256', enrolledAt: '' }];"
            + "      return new Response(JSON.stringify(j), { status: 200, headers: { 'Content-Type': 'application/json' } });"
            + "    });"
            + "  }"
            + "  return orig(url, init);"
            + "};";

    private static VirtualAuthenticatorOptions platformAuthenticator() {
        return new VirtualAuthenticatorOptions()
                .setProtocol(VirtualAuthenticatorOptions.Protocol.CTAP2)
                .setTransport(VirtualAuthenticatorOptions.Transport.INTERNAL)
                .setHasResidentKey(true)
                .setHasUserVerification(true)
                .setIsUserVerified(true)
                .setIsUserConsenting(true);
    }

    /** Enrolls a passkey from "My credentials"; returns its credential id (base64url) as the authenticator holds it. */
    private String enroll(ChromeDriver d, VirtualAuthenticator key, String user) {
        int before = key.getCredentials().size();
        go(d, "console/credentials");
        d.findElement(By.id("enroll-passkey")).click();
        waitFor(d, By.id("notice"));
        assertThat(d.findElement(By.id("notice")).getText()).contains("enrolled");
        assertThat(key.getCredentials()).hasSize(before + 1);
        String id = Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(key.getCredentials().get(before).getId());
        assertThat(d.findElement(By.id("credentials")).getText()).contains("webauthn:" + id, "ES256", "valid");
        ConsoleBrowsers.screenshot(d, "passkey-enrolled-" + user);
        return id;
    }

    /** Opens the "Approve with passkey" panel and waits until the statement is shown and signing is offered. */
    private static WebElement openApproval(ChromeDriver d, String request) {
        d.findElement(By.cssSelector("#request-" + request + " button.approve-passkey"))
                .click();
        WebElement panel = d.findElement(By.id("passkey-" + request));
        new WebDriverWait(d, WAIT)
                .until(ExpectedConditions.elementToBeClickable(panel.findElement(By.cssSelector(".sign-passkey"))));
        return panel;
    }

    private static int signCount(VirtualAuthenticator key) {
        return key.getCredentials().stream().mapToInt(c -> c.getSignCount()).sum();
    }

    private static String text(WebElement panel, String css) {
        return panel.findElement(By.cssSelector(css)).getText();
    }

    private static String sha256(String s) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(d);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void go(ChromeDriver d, String path) {
        d.get(root + path);
        waitFor(d, By.tagName("main"));
    }

    /** Signs out whoever was signed in and signs in as {@code user} through the login form. */
    private void login(ChromeDriver d, String user) {
        d.get(root + "console/logged-out");
        d.manage().deleteAllCookies();
        d.get(root + "console/requests");
        waitFor(d, By.id("j_username")).sendKeys(user);
        d.findElement(By.id("j_password")).sendKeys(Api.PASSWORD);
        d.findElement(By.id("sign-in")).click();
        new WebDriverWait(d, WAIT).until(ExpectedConditions.textToBePresentInElementLocated(By.id("who"), user));
    }

    private static WebElement waitFor(ChromeDriver d, By what) {
        return new WebDriverWait(d, WAIT).until(ExpectedConditions.presenceOfElementLocated(what));
    }
}
