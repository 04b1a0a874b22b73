package dev.keyhold.ops;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.activation.ActivationService;
import dev.keyhold.custodian.ssh.OpenSshKeyFiles;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.CustodianKeys;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Tokens;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The keyhold command line as a user runs it ({@code bin/keyhold}, the shaded jar the build makes, a child process)
 * against this test's running Keyhold: issuers, keys, rotation, requests, reject, revoke, kill switch and resume,
 * audit verify and export with the offline check (and a tampered export failing it), evidence check, status, the
 * exit codes for refusals, authentication and usage; and two custodians approving with their SSH keys (a key file,
 * and ssh-agent) through {@code keyhold approve}, after which the key activates and signs.
 */
@QuarkusTest
class CliEndToEndTest {

    static final Path LAUNCHER = Path.of("bin/keyhold").toAbsolutePath();
    static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/")
    URL base;

    @Inject
    Lifecycle lifecycle;

    @Inject
    MutableClock clock;

    @Inject
    Tokens tokens;

    @Inject
    ActivationService activations;

    @TempDir
    Path dir;

    String agentSocket;

    @BeforeAll
    static void jarBuilt() {
        assertThat(Path.of("cli/target/keyhold-cli.jar"))
                .as("the CLI jar (built by the root build's 'cli' execution;"
                        + " run without -DskipCli, or ./mvnw -f cli/pom.xml package)")
                .exists();
    }

    record Run(int code, String out, String err) {
        JsonNode json() throws Exception {
            return JSON.readTree(out);
        }
    }

    Run keyhold(String user, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("KEYHOLD_"));
        env.put("HOME", dir.toString());
        env.put("KEYHOLD_URL", base.toString());
        env.remove("SSH_AUTH_SOCK");
        if (agentSocket != null) {
            env.put("SSH_AUTH_SOCK", agentSocket);
        }
        if (user != null) {
            env.put("KEYHOLD_USER", user);
            env.put("KEYHOLD_PASSWORD", Api.PASSWORD);
        }
        Path out = dir.resolve("out-" + System.nanoTime());
        Path err = dir.resolve("err-" + System.nanoTime());
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(2, TimeUnit.MINUTES))
                .as("keyhold " + String.join(" ", args) + " finished")
                .isTrue();
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void lifecycleFromTheCommandLine() throws Exception {
        String id = Api.uniqueId("cli");
        Run created = keyhold(
                "admin",
                "issuer",
                "create",
                "--id",
                id,
                "--issuer-uri",
                "https://" + id + ".test.example",
                "--partition",
                "default",
                "--algorithm",
                "ES256",
                "--audience",
                "api://" + id,
                "--custodian",
                "alice",
                "--custodian",
                "bob",
                "--custodian",
                "carol",
                "--approvals",
                "2",
                "--signer",
                "signer",
                "--rotation-period",
                "P30D",
                "--publish-lead",
                "PT2H",
                "--token-ttl",
                "PT1H",
                "--active-deadline",
                "P45D",
                "--destroy-grace",
                "P7D",
                "--approval-ttl",
                "P2D");
        assertThat(created.code()).as(created.err()).isZero();
        assertThat(created.out())
                .contains("created issuer " + id, "custodians    alice, bob, carol   approvals required: 2");

        Run list = keyhold("auditor", "issuers");
        assertThat(list.code()).as(list.err()).isZero();
        assertThat(list.out()).startsWith("ISSUER").containsPattern("(?m)^" + id + "\\s+ACTIVE\\s+-");
        Run show = keyhold("auditor", "--json", "issuer", "show", id);
        assertThat(show.json().path("approvalsRequired").asInt()).isEqualTo(2);

        Run rotated = keyhold("scheduler", "rotate", id, "--reason", "first key", "--json");
        assertThat(rotated.code()).as(rotated.err()).isZero();
        String kid = rotated.json().path("kid").asText();
        String request = rotated.json().path("activationRequestId").asText();
        assertThat(kid).isNotBlank();
        assertThat(request).isNotBlank();
        assertThat(keyhold("auditor", "keys", id).out()).containsPattern(kid + "\\s+PENDING");

        Run open = keyhold("alice", "requests", "--issuer", id);
        assertThat(open.code()).as(open.err()).isZero();
        assertThat(open.out())
                .contains(
                        request + "  KEY_ACTIVATION  issuer " + id + "  OPEN",
                        "what:       activate key " + kid + " (ES256, partition default",
                        "requested:  by scheduler",
                        "reason: first key",
                        "approvals:  0 of 2");

        Run rejected = keyhold("alice", "reject", request, "-m", "not expected");
        assertThat(rejected.code()).as(rejected.err()).isZero();
        assertThat(rejected.out()).contains("request " + request + " REJECTED");
        assertThat(keyhold("alice", "requests", "--issuer", id).out())
                .contains("no OPEN activation requests for issuer " + id);
        // deciding twice is refused by the server: exit 1, its problem in one line
        Run again = keyhold("bob", "reject", request, "-m", "me too");
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).startsWith("keyhold: 409 ").hasLineCount(1);

        Run revoked = keyhold("admin", "revoke", kid, "--reason", "superseded");
        assertThat(revoked.code()).as(revoked.err()).isZero();
        assertThat(revoked.out()).contains("key " + kid + " REVOKED (superseded)");

        Run suspended = keyhold("admin", "issuer", "suspend", id, "--reason", "drill");
        assertThat(suspended.code()).as(suspended.err()).isZero();
        assertThat(suspended.out()).contains("issuer " + id + " is SUSPENDED");
        Run resume = keyhold("admin", "issuer", "resume", id, "--reason", "drill over");
        assertThat(resume.code()).as(resume.err()).isZero();
        assertThat(resume.out()).contains("resume request ", "needs 2 approvals");
        assertThat(keyhold("bob", "requests", "--issuer", id).out())
                .contains("ISSUER_RESUME", "resume the suspended issuer");
    }

    /** An unencrypted OpenSSH private key file of the principal's enrolled test key, mode 600 as ssh-keygen wants. */
    Path privateKeyFile(String principal) throws Exception {
        Path f = dir.resolve(principal + "_ed25519");
        Files.writeString(f, OpenSshKeyFiles.privateKeyFile(CustodianKeys.of(principal), principal));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    @Test
    void twoCustodiansApproveWithTheirSshKeysAndTheKeyActivatesAndSigns() throws Exception {
        String id = Api.createIssuer("clix");
        Run rotated = keyhold("scheduler", "rotate", id, "--json");
        assertThat(rotated.code()).as(rotated.err()).isZero();
        String kid = rotated.json().path("kid").asText();
        String request = rotated.json().path("activationRequestId").asText();

        // alice signs with her key file
        Run alice = keyhold(
                "alice", "approve", request, "--key", privateKeyFile("alice").toString(), "-m", "kid checked");
        assertThat(alice.code()).as(alice.out() + alice.err()).isZero();
        assertThat(alice.out())
                .contains(
                        "signed and approved: KEY_ACTIVATION of issuer " + id,
                        "\"kid\":\"" + kid + "\"",
                        "request " + request + " OPEN: 1 of 2 approvals");

        // carol with a key that is not hers: the server refuses the signature, nothing is recorded
        Run wrongKey = keyhold(
                "carol", "approve", request, "--key", privateKeyFile("mallory").toString());
        assertThat(wrongKey.code()).isEqualTo(1);
        assertThat(wrongKey.err()).startsWith("keyhold: 422 ").hasLineCount(1);

        // bob signs through ssh-agent: his private key file is gone, only the agent holds the key
        Path bobKey = privateKeyFile("bob");
        Path bobPub = Files.writeString(dir.resolve("bob_ed25519.pub"), CustodianKeys.publicKeyLine("bob") + "\n");
        Path sock = dir.resolve("agent.sock");
        Process agent = new ProcessBuilder("ssh-agent", "-D", "-a", sock.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            for (int i = 0; i < 200 && !Files.exists(sock); i++) {
                Thread.sleep(25);
            }
            ProcessBuilder add = new ProcessBuilder("ssh-add", bobKey.toString()).redirectErrorStream(true);
            add.environment().put("SSH_AUTH_SOCK", sock.toString());
            Process a = add.start();
            a.getInputStream().readAllBytes();
            assertThat(a.waitFor()).isZero();
            Files.delete(bobKey);
            agentSocket = sock.toString();
            Run bob = keyhold("bob", "approve", request, "--key", bobPub.toString());
            assertThat(bob.code()).as(bob.out() + bob.err()).isZero();
            assertThat(bob.out()).contains("request " + request + " APPROVED: 2 of 2 approvals");
        } finally {
            agentSocket = null;
            agent.destroy();
        }

        // the approved key activates once activatableAt has passed, and then signs: its evidence (the two SSH
        // signatures the CLI made) is checked again at use
        Instant activatable = Instant.parse(rotated.json().path("activatableAt").asText());
        if (clock.instant().isBefore(activatable)) {
            clock.advance(
                    java.time.Duration.between(clock.instant(), activatable).plusSeconds(1));
        }
        activations.activateIfDue(java.util.UUID.fromString(request), "test");
        assertThat(keyhold("auditor", "keys", id).out()).containsPattern(kid + "\\s+ACTIVE");
        assertThat(keyhold("auditor", "issuer", "show", id).out()).contains("active key    " + kid);
        as("signer")
                .body(Map.of("claims", Tokens.claims(id)))
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(200)
                .body("kid", org.hamcrest.Matchers.equalTo(kid));
    }

    @Test
    void refusalsAuthenticationAndUsageHaveTheirExitCodes() throws Exception {
        Run unknown = keyhold("auditor", "issuer", "show", "no-such-issuer");
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err())
                .startsWith("keyhold: 404 ")
                .contains("no-such-issuer")
                .hasLineCount(1);

        Run invalid = keyhold("admin", "issuer", "create", "--id", "Bad_Id");
        assertThat(invalid.code()).isEqualTo(1);
        assertThat(invalid.err()).startsWith("keyhold: 4").hasLineCount(1);

        Run wrongRole = keyhold("signer", "rotate", "whatever");
        assertThat(wrongRole.code()).isEqualTo(4);
        assertThat(wrongRole.err()).startsWith("keyhold: not allowed (403)").hasLineCount(1);

        List<String> args = List.of("--password", "wrong", "issuers");
        Run badPassword = keyhold("admin", args.toArray(String[]::new));
        assertThat(badPassword.code()).isEqualTo(4);
        assertThat(badPassword.err())
                .startsWith("keyhold: authentication failed (401) with user admin")
                .hasLineCount(1);

        Run usage = keyhold("admin", "rotate");
        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).contains("ISSUER").hasLineCount(1);

        Run status = keyhold(null, "status");
        String health = io.restassured.RestAssured.given()
                .get("/q/health")
                .then()
                .extract()
                .path("status");
        assertThat(status.out()).contains("Keyhold at " + base.toString().replaceAll("/$", "") + ": " + health);
        assertThat(status.code()).isEqualTo("UP".equals(health) ? 0 : 1);
    }

    @Test
    void evidenceCheckTellsIssuedFromForged() throws Exception {
        String id = Api.createIssuer("clie");
        String kid = lifecycle.activeKey(id);
        String a = as("signer")
                .body(Map.of("claims", Tokens.claims(id)))
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(200)
                .extract()
                .path("token");
        String b = as("signer")
                .body(Map.of("claims", Tokens.claims(id)))
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(200)
                .extract()
                .path("token");
        Path issued = Files.writeString(dir.resolve("issued.txt"), "# two tokens\n" + a + "\n\n" + b + "\n");
        Run ok = keyhold("auditor", "evidence", "check", issued.toString());
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.out())
                .contains("all 2 tokens were issued by Keyhold")
                .containsPattern("issued\\s+" + id + "\\s+" + kid);

        Map<String, Object> payload = tokens.payload(id, clock.instant().getEpochSecond());
        payload.put("jti", "stolen-" + System.nanoTime());
        String forged = tokens.forge(kid, Tokens.header("ES256", kid), payload);
        Path mixed = Files.writeString(dir.resolve("mixed.json"), JSON.writeValueAsString(List.of(a, forged)));
        Run bad = keyhold("auditor", "evidence", "check", mixed.toString());
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.out()).contains("forged", "1 token(s) verify under a Keyhold key but were never issued");
        Run asJson = keyhold("auditor", "evidence", "check", mixed.toString(), "--json");
        assertThat(asJson.json().path("results").get(1).path("judgement").asText())
                .isEqualTo("forged");
    }

    @Test
    void auditVerifyAndOfflineExportCheckCatchATamperedRecord() throws Exception {
        Instant from = clock.instant().minusSeconds(5);
        String id = Api.createIssuer("clia");
        Api.rotate(id);
        as("auditor")
                .body("{}")
                .post("/v1/audit/checkpoints")
                .then()
                .statusCode(org.hamcrest.Matchers.anyOf(org.hamcrest.Matchers.is(200), org.hamcrest.Matchers.is(201)));

        boolean serverOk = as("auditor")
                .get("/v1/audit/verify")
                .then()
                .statusCode(200)
                .extract()
                .path("ok");
        Run verify = keyhold("auditor", "audit", "verify");
        assertThat(verify.code()).as(verify.out() + verify.err()).isEqualTo(serverOk ? 0 : 1);
        assertThat(verify.out()).startsWith(serverOk ? "OK: audit chain intact" : "FAILED");

        Path export = dir.resolve("audit.json");
        Run exported = keyhold(
                "auditor", "audit", "export", "--from", from.toString(), "--output", export.toString(), "--verify");
        assertThat(exported.code()).as(exported.out() + exported.err()).isZero();
        assertThat(exported.out()).contains("OK: " + export + " is intact", "checked offline");

        JsonNode doc = JSON.readTree(export.toFile());
        assertThat(doc.path("records").size()).isPositive();
        String tampered = Files.readString(export, StandardCharsets.UTF_8)
                .replaceFirst("\"action\"\\s*:\\s*\"issuer.created\"", "\"action\":\"issuer.deleted\"");
        assertThat(tampered).isNotEqualTo(Files.readString(export));
        Path bad = Files.writeString(dir.resolve("tampered.json"), tampered);
        Run offline = keyhold(null, "audit", "verify", "--file", bad.toString());
        assertThat(offline.code()).isEqualTo(1);
        assertThat(offline.out()).contains("FAILED", "do not match its hash");
        Run offlineOk = keyhold(null, "audit", "verify", "--file", export.toString(), "--json");
        assertThat(offlineOk.code()).isZero();
        assertThat(offlineOk.json().path("ok").asBoolean()).isTrue();
    }
}
