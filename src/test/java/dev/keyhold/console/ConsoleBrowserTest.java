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
import java.util.List;
import java.util.Map;
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

/**
 * The console in a real headless Chromium (Selenium, Debian's chromedriver), over the real application: PostgreSQL,
 * SoftHSM2, the event feed. Two browsers are two people at once; each test logs them in as whoever it needs.
 * Screenshots of each page land in target/console-screenshots.
 */
@QuarkusTest
class ConsoleBrowserTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static ChromeDriver one;
    private static ChromeDriver two;

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
    void aliceAndBobApproveARotationAndTheKeyGoesActiveWhileOpenPagesUpdateLive() {
        String id = Api.createIssuer("console");
        String kid = Api.rotate(id);
        String request = requestOf(kid);
        clock.advance(Duration.ofHours(3)); // past publishLead (PT2H): approval activates at once

        login(one, "alice");
        go(one, "console/requests");
        WebElement card = one.findElement(By.id("request-" + request));
        assertThat(card.getText()).contains(id, kid, "ES256", "P-256", "scheduler", "0 of 2 needed", "Key activation");
        ConsoleBrowsers.screenshot(one, "requests");
        card.findElement(By.name("comment")).sendKeys("kid checked against the HSM listing");
        approveWithSsh(one, card, "alice", request);
        waitFor(one, By.id("notice"));
        assertThat(one.findElement(By.cssSelector(".approvals")).getText()).isEqualTo("1 of 2 needed");
        assertThat(one.findElements(By.cssSelector("button.approve"))).isEmpty(); // alice has decided
        assertThat(one.getPageSource()).contains("kid checked against the HSM listing");
        ConsoleBrowsers.screenshot(one, "request-after-first-approval");

        // alice keeps the list open; bob's approval makes the request disappear from it without a reload
        go(one, "console/requests");
        new WebDriverWait(one, WAIT)
                .until(ExpectedConditions.attributeToBe(By.id("live"), "data-live-connected", "true"));
        assertThat(one.findElements(By.id("request-" + request))).hasSize(1);
        login(two, "bob");
        go(two, "console/requests/" + request);
        approveWithSsh(two, two.findElement(By.id("request-" + request)), "bob", request);
        waitFor(two, By.id("notice"));
        new WebDriverWait(one, WAIT).until(ExpectedConditions.numberOfElementsToBe(By.id("request-" + request), 0));
        ConsoleBrowsers.screenshot(one, "requests-after-live-update");

        as("admin").get("/v1/keys/" + kid).then().statusCode(200).body("state", equalTo("ACTIVE"));
        go(two, "console/issuers/" + id);
        assertThat(two.findElement(By.id("active-kid")).getText()).isEqualTo(kid);
        assertThat(two.findElement(By.id("issuer-status")).getText()).isEqualTo("ACTIVE");
        ConsoleBrowsers.screenshot(two, "issuer");
        go(two, "console/issuers");
        assertThat(two.findElement(By.id("issuer-" + id)).getText()).contains("ACTIVE");
        ConsoleBrowsers.screenshot(two, "issuers");
    }

    @Test
    void carolPullsTheKillSwitchAndResumeNeedsTwoOtherCustodiansWhileHerForgedApprovalIsRefusedAndAudited() {
        String id = Api.createIssuer("console-kill");
        login(one, "carol");
        go(one, "console/issuers/" + id);
        one.findElement(By.id("suspend-reason")).sendKeys("incident 42: token service compromised");
        one.findElement(By.id("suspend")).click();
        // the confirmation step: nothing has happened yet
        waitFor(one, By.id("confirm-suspend"));
        assertThat(one.findElement(By.id("confirm-reason")).getText())
                .isEqualTo("incident 42: token service compromised");
        as("admin").get("/v1/issuers/" + id).then().body("status", equalTo("ACTIVE"));
        ConsoleBrowsers.screenshot(one, "kill-switch-confirm");
        one.findElement(By.id("confirm-suspend")).click();
        waitFor(one, By.id("notice"));
        assertThat(one.findElement(By.id("issuer-status")).getText()).isEqualTo("SUSPENDED");
        as("admin").get("/v1/issuers/" + id).then().body("status", equalTo("SUSPENDED"));
        assertThat(sql.one(
                        "select data from outbox_event where issuer_id = ? and type = 'keyhold.issuer.suspended'", id))
                .asString()
                .contains("incident 42");
        ConsoleBrowsers.screenshot(one, "issuer-suspended");

        one.findElement(By.id("resume-reason")).sendKeys("incident 42 closed");
        one.findElement(By.id("resume")).click();
        waitFor(one, By.id("notice"));
        String request = one.getCurrentUrl().replaceAll(".*/console/requests/([0-9a-f-]{36}).*", "$1");
        // the requester sees no buttons on her own request
        assertThat(one.findElements(By.cssSelector("button.approve"))).isEmpty();
        assertThat(one.findElements(By.cssSelector("button.reject"))).isEmpty();
        assertThat(one.findElement(By.cssSelector(".why-not")).getText()).contains("You requested this");
        ConsoleBrowsers.screenshot(one, "requester-sees-no-buttons");

        // a forged approval (her own session and a valid form token) is refused with 403 and audited
        long denied = deniedDecisions("carol", request);
        one.executeScript("var f = document.createElement('form'); f.method = 'post';"
                + "f.action = '/console/requests/" + request + "/decision';"
                + "[['csrf', document.querySelector('input[name=csrf]').value], ['decision', 'approve']].forEach(function (p) {"
                + "  var i = document.createElement('input'); i.type = 'hidden'; i.name = p[0]; i.value = p[1]; f.appendChild(i); });"
                + "document.body.appendChild(f); f.submit();");
        waitFor(one, By.id("error-title"));
        assertThat(one.findElement(By.id("error-title")).getText()).startsWith("403");
        assertThat(one.getPageSource()).doesNotContain("Exception").doesNotContain("at dev.keyhold");
        ConsoleBrowsers.screenshot(one, "forged-approval-403");
        assertThat(deniedDecisions("carol", request)).isEqualTo(denied + 1);
        as("admin")
                .get("/v1/activations/" + request)
                .then()
                .body("state", equalTo("OPEN"))
                .body("approvals", equalTo(0));

        // one other custodian is not enough; the second resumes the issuer
        login(two, "alice");
        go(two, "console/requests/" + request);
        approveWithSsh(two, two.findElement(By.id("request-" + request)), "alice", request);
        waitFor(two, By.id("notice"));
        as("admin").get("/v1/issuers/" + id).then().body("status", equalTo("SUSPENDED"));
        login(two, "bob");
        go(two, "console/requests/" + request);
        approveWithSsh(two, two.findElement(By.id("request-" + request)), "bob", request);
        waitFor(two, By.id("notice"));
        assertThat(two.findElement(By.cssSelector(".state")).getText()).isEqualTo("EXECUTED");
        as("admin").get("/v1/issuers/" + id).then().body("status", equalTo("ACTIVE"));
        ConsoleBrowsers.screenshot(two, "resume-executed");
    }

    @Test
    void aCustodianOfAnotherIssuerSeesNothingOfThisIssuer() {
        String id = Api.createIssuer("console-own");
        String kid = Api.rotate(id);
        String request = requestOf(kid);
        Map<String, Object> otherBody = Api.issuerBody(Api.uniqueId("console-other"));
        otherBody.put("custodians", new java.util.ArrayList<>(List.of("mallory", "dave", "erin")));
        String other = Api.createIssuer(otherBody);
        Api.rotate(other);

        login(one, "mallory");
        go(one, "console/requests");
        assertThat(one.getPageSource()).doesNotContain(id).doesNotContain(kid).contains(other);
        go(one, "console/issuers");
        assertThat(one.getPageSource()).doesNotContain(id).contains(other);
        ConsoleBrowsers.screenshot(one, "outsider-issuers");
        for (String page : List.of("console/issuers/" + id, "console/requests/" + request, "console/keys/" + kid)) {
            go(one, page);
            assertThat(one.findElement(By.id("error-title")).getText()).as(page).startsWith("403");
            assertThat(one.getPageSource()).as(page).doesNotContain(kid);
        }
        ConsoleBrowsers.screenshot(one, "outsider-403");
    }

    @Test
    void theAuditorSeesAKeysTimelineAndTheChainState() {
        String id = Api.createIssuer("console-audit");
        String kid = Api.rotate(id);
        String request = requestOf(kid);
        clock.advance(Duration.ofHours(3));
        dev.keyhold.testsupport.Api.decide("alice", request, "approve", "ok")
                .then()
                .statusCode(200);
        dev.keyhold.testsupport.Api.approve("bob", request).then().statusCode(200);
        as("admin").get("/v1/keys/" + kid).then().body("state", equalTo("ACTIVE"));

        login(one, "auditor");
        go(one, "console/keys/" + kid);
        String timeline = one.findElement(By.id("timeline")).getText();
        assertThat(timeline)
                .contains(
                        "key.created",
                        "activation.requested",
                        "activation.decision",
                        "alice",
                        "bob",
                        "activation.approved",
                        "key.activated");
        assertThat(timeline.indexOf("key.created")).isLessThan(timeline.indexOf("key.activated"));
        ConsoleBrowsers.screenshot(one, "key-timeline");
        go(one, "console/audit?issuer=" + id);
        assertThat(one.findElement(By.id("chain")).getText()).contains("intact");
        assertThat(one.findElement(By.id("audit-records")).getText()).contains("issuer.created", "key.activated");
        ConsoleBrowsers.screenshot(one, "audit");
        go(one, "console/audit?issuer=" + id + "&limit=2");
        one.findElement(By.id("next-page")).click();
        assertThat(one.findElement(By.id("audit-records")).getText()).doesNotContain("issuer.created");

        // readable at 400 px: nothing wider than the window
        one.manage().window().setSize(new Dimension(400, 900));
        try {
            for (String page : List.of("console/keys/" + kid, "console/audit?issuer=" + id, "console/issuers/" + id)) {
                go(one, page);
                Number wide = (Number) one.executeScript("return document.documentElement.scrollWidth;");
                assertThat(wide.intValue()).as(page).isLessThanOrEqualTo(400);
            }
            ConsoleBrowsers.screenshot(one, "issuer-400px");
        } finally {
            one.manage().window().setSize(new Dimension(1280, 900));
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private String requestOf(String kid) {
        return (String) sql.one("select id::text from activation_request where kid = ? and state = 'OPEN'", kid);
    }

    private long deniedDecisions(String actor, String request) {
        return sql.count(
                "select count(*) from audit_record where actor = ? and action = 'activation.decide'"
                        + " and outcome = 'denied' and details like ?",
                actor,
                "%" + request + "%");
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

    /**
     * Approves in the console with an SSH signature over the request's statement, pasted into the card's form as a
     * custodian who signed it in a terminal would (the test custodians' SSH keys, testsupport/CustodianKeys).
     */
    private static void approveWithSsh(ChromeDriver d, WebElement card, String user, String request) {
        card.findElement(By.cssSelector(".ssh-approve summary")).click();
        String sig = (String) Api.signature(user, request).get("value");
        // the armored signature has line breaks: set it as the value rather than typing it
        d.executeScript("arguments[0].value = arguments[1];", card.findElement(By.name("signature")), sig);
        card.findElement(By.cssSelector("button.approve-ssh")).click();
    }

    private static WebElement waitFor(ChromeDriver d, By what) {
        return new WebDriverWait(d, WAIT).until(ExpectedConditions.presenceOfElementLocated(what));
    }
}
