package dev.keyhold;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.testsupport.KeyholdJar;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.TcpProxy;
import dev.keyhold.validator.KeyholdValidator;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The relying-party kit against the packaged service over real HTTP, with the service crashed and restarted on the
 * same data while the library is cut off: a key revoked by the restarted service is refused from the moment the
 * library is back, before any token is accepted, because the library resumes the feed from its cursor (the outbox
 * sequence, which survives the restart).
 */
class ValidatorRestartIT {

    private static final String DEV_PASSWORD = "keyhold-dev"; // development-only demo password of embedded mode

    @Test
    void aRevocationByARestartedServiceIsHonouredOnReconnectBeforeAnyTokenIsAccepted() throws Exception {
        Path data = Files.createTempDirectory("keyhold-restart-it");
        Map<String, String> env = Map.of(
                "KEYHOLD_DATA_DIR",
                data.resolve("data").toString(),
                // short leads so a key can be activated within the test: JWKS max-age 1 s, publish lead 2 s
                "KEYHOLD_JWKS_MAX_AGE",
                "PT1S",
                "KEYHOLD_SCHEDULER_INTERVAL",
                "1S");
        Files.createDirectories(data.resolve("run1"));
        Files.createDirectories(data.resolve("run2"));
        KeyholdJar first =
                KeyholdJar.start(data.resolve("run1"), env, List.of()).awaitStarted();
        KeyholdJar second = null;
        MutableClock libraryClock = new MutableClock();
        try (TcpProxy proxy = new TcpProxy(first.port)) {
            String issuer = "restart-it";
            String kid = activeKey(first, data.resolve("data"), issuer);
            String token = field(
                    call(
                            first,
                            "POST",
                            "/v1/issuers/" + issuer + "/sign",
                            "signer",
                            "{\"claims\":{\"sub\":\"user-1\",\"aud\":\"api://" + issuer + "\"}}"),
                    200,
                    "token");
            try (KeyholdValidator v = KeyholdValidator.builder(URI.create("http://127.0.0.1:" + proxy.port()))
                    .trust(issuer, Set.of("api://" + issuer))
                    .clock(libraryClock)
                    .maxStaleness(Duration.ofSeconds(30))
                    .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
                    .build()) {
                assertThat(v.validate(token).valid()).isTrue();
                awaitTrue(() -> v.feedStatus().connected(), "library connected to the feed");

                // the library is cut off, and the service crashes and comes back on the same data and port
                proxy.cut();
                awaitTrue(() -> !v.feedStatus().connected(), "library sees the feed dropped");
                first.process.destroyForcibly();
                assertThat(first.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
                second = KeyholdJar.start(data.resolve("run2"), env, List.of(), first.port)
                        .awaitStarted();

                call(second, "POST", "/v1/keys/" + kid + "/revoke", "alice", "{\"reason\":\"stolen\"}", 200);
                // cut off past maxStaleness: fail closed
                libraryClock.advance(Duration.ofSeconds(31));
                assertThat(v.validate(token).reason()).isEqualTo("stale");

                proxy.restore();
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                int checks = 0;
                while (!v.feedStatus().connected() && System.nanoTime() < end) {
                    assertThat(v.validate(token).valid())
                            .as("accepted before the feed caught up")
                            .isFalse();
                    checks++;
                }
                assertThat(v.feedStatus().connected()).isTrue();
                assertThat(checks).isPositive();
                assertThat(v.validate(token).reason()).isEqualTo("key_not_usable");
                // the restarted service's own verdict agrees
                assertThat(field(
                                call(second, "POST", "/v1/verify", "auditor", "{\"token\":\"" + token + "\"}"),
                                200,
                                "reason"))
                        .isEqualTo("key_not_usable");
            }
        } finally {
            first.close();
            if (second != null) {
                second.close();
            }
        }
    }

    /** Registers an issuer, rotates, has two custodians approve, and waits for the sweep to activate the key. */
    private static String activeKey(KeyholdJar jar, Path dataDir, String issuer) throws Exception {
        call(
                jar,
                "POST",
                "/v1/issuers",
                "admin",
                "{\"id\":\"" + issuer + "\",\"issuerUri\":\"https://" + issuer
                        + ".example\",\"audiences\":[\"api://" + issuer
                        + "\"],\"custodians\":[\"alice\",\"bob\",\"carol\"],"
                        + "\"approvalsRequired\":2,\"signers\":[\"signer\"],\"publishLead\":\"PT2S\"}",
                201);
        // 201, or 200 when the one-second sweep has already prepared the issuer's first key: either way its kid
        HttpResponse<String> rotated = call(jar, "POST", "/v1/issuers/" + issuer + "/rotations", "scheduler", "{}");
        String kid = field(rotated, rotated.statusCode() == 200 ? 200 : 201, "kid");
        String request =
                field(call(jar, "GET", "/v1/activations?issuer=" + issuer + "&state=OPEN", "alice", null), 200, "id");
        for (String custodian : List.of("alice", "bob")) {
            approve(jar, dataDir, request, custodian);
        }
        awaitTrue(
                () -> field(call(jar, "GET", "/v1/keys/" + kid, "auditor", null), 200, "state")
                        .equals("ACTIVE"),
                "key " + kid + " activated by the sweep once its publish lead has passed");
        return kid;
    }

    /**
     * A custodian's approval as docs/approving-from-a-terminal.md describes it: the statement's exact bytes signed by
     * ssh-keygen with the demo key the packaged jar made for that custodian in its data directory.
     */
    private static void approve(KeyholdJar jar, Path dataDir, String request, String custodian) throws Exception {
        HttpResponse<String> statement = call(jar, "GET", "/v1/activations/" + request + "/statement", custodian, null);
        assertThat(statement.statusCode()).as(statement.body()).isEqualTo(200);
        Path file = Files.createTempFile("statement-" + custodian, ".json");
        Path sig = Path.of(file + ".sig");
        try {
            Files.write(file, statement.body().getBytes(StandardCharsets.UTF_8));
            Process p = new ProcessBuilder(
                            "ssh-keygen",
                            "-q",
                            "-Y",
                            "sign",
                            "-n",
                            "keyhold-approval",
                            "-f",
                            dataDir.resolve("custodian-keys").resolve(custodian).toString(),
                            file.toString())
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor()).as("ssh-keygen -Y sign: " + out).isZero();
            String armored = Files.readString(sig).strip().replace("\n", "\\n");
            call(
                    jar,
                    "POST",
                    "/v1/activations/" + request + "/decisions",
                    custodian,
                    "{\"decision\":\"approve\"," + "\"signature\":{\"format\":\"sshsig\",\"value\":\"" + armored
                            + "\"}}",
                    200);
        } finally {
            Files.deleteIfExists(sig);
            Files.delete(file);
        }
    }

    private static HttpResponse<String> call(KeyholdJar jar, String method, String path, String user, String body)
            throws Exception {
        return jar.call(method, path, KeyholdJar.basic(user, DEV_PASSWORD), body);
    }

    private static void call(KeyholdJar jar, String method, String path, String user, String body, int status)
            throws Exception {
        HttpResponse<String> r = call(jar, method, path, user, body);
        assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isEqualTo(status);
    }

    /** The first string value of {@code name} in a JSON answer (enough for the flat fields read here). */
    private static String field(HttpResponse<String> r, int status, String name) {
        assertThat(r.statusCode()).as(r.uri() + ": " + r.body()).isEqualTo(status);
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(r.body());
        assertThat(m.find()).as(name + " in " + r.body()).isTrue();
        return m.group(1);
    }

    interface Check {
        boolean holds() throws Exception;
    }

    /** Polls a condition on child processes (real time passes there; nothing here can advance their clocks). */
    private static void awaitTrue(Check check, String what) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < end) {
            if (check.holds()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not within 60 s: " + what);
    }
}
