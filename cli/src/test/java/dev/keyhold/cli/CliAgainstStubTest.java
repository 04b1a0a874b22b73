package dev.keyhold.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line against a stub Keyhold (the JDK's HTTP server): the approval path as designed (statement bytes,
 * an SSH signature made by ssh-keygen with a key file or through ssh-agent, the decision body), which the stub
 * checks with {@code ssh-keygen -Y verify} exactly like a custodian's verifier would; and the exit codes and
 * one-line errors scripts rely on.
 */
class CliAgainstStubTest {

    static final String REQUEST = "5b0c1a9e-8f1e-4d1e-9a55-3c1f6a1e2b77";
    static final String STATEMENT =
            "{\"approvalsRequired\":2,\"expiresAt\":\"2030-01-01T00:00:00Z\",\"issuer\":\"acme\","
                    + "\"kind\":\"KEY_ACTIVATION\",\"nonce\":\"n0nce\",\"policyDigest\":\"sha256:abc\",\"policyVersion\":1,"
                    + "\"request\":\"" + REQUEST
                    + "\",\"requester\":\"scheduler\",\"subject\":{\"jwkThumbprint\":\"k1\",\"kid\":\"k1\"},"
                    + "\"type\":\"keyhold.approval.v1\"}";

    @TempDir
    Path dir;

    HttpServer server;
    final List<String> seen = new CopyOnWriteArrayList<>();
    final List<JsonNode> decisions = new CopyOnWriteArrayList<>();
    String statement = STATEMENT;
    Path allowedSigners;
    Process agent;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
        if (agent != null) {
            agent.destroy();
        }
    }

    void handle(HttpExchange x) throws IOException {
        String path = x.getRequestURI().toString();
        String auth = x.getRequestHeaders().getFirst("Authorization");
        seen.add(x.getRequestMethod() + " " + path);
        byte[] body = x.getRequestBody().readAllBytes();
        if (auth == null
                || !auth.equals("Basic " + java.util.Base64.getEncoder().encodeToString("alice:pw".getBytes()))) {
            if (path.startsWith("/q/health")) {
                reply(x, 503, "{\"status\":\"DOWN\",\"checks\":[{\"name\":\"hsm\",\"status\":\"DOWN\"}]}");
                return;
            }
            reply(x, 401, "");
            return;
        }
        if (path.equals("/v1/activations/" + REQUEST + "/statement")) {
            reply(x, 200, statement);
        } else if (path.equals("/v1/activations/" + REQUEST + "/decisions")) {
            JsonNode d = Api.JSON.readTree(body);
            decisions.add(d);
            if ("approve".equals(d.path("decision").asText())) {
                String sig = d.path("signature").path("value").asText();
                if (!"sshsig".equals(d.path("signature").path("format").asText()) || !verify(sig)) {
                    problem(x, 422, "Invalid approval signature", "the signature does not verify over the statement");
                    return;
                }
            }
            reply(x, 200, "{\"id\":\"" + REQUEST + "\",\"state\":\"OPEN\",\"approvals\":1,\"approvalsRequired\":2}");
        } else if (path.equals("/v1/issuers/nope")) {
            problem(x, 404, "Not found", "issuer nope does not exist");
        } else if (path.equals("/v1/issuers/secret")) {
            problem(x, 403, "Forbidden", "alice is not a custodian of issuer secret");
        } else if (path.equals("/v1/issuers")) {
            reply(
                    x,
                    200,
                    "[{\"id\":\"acme\",\"status\":\"ACTIVE\",\"activeKid\":\"k0\",\"nextRotationDue\":\"2030-01-01T00:00:00Z\","
                            + "\"overdue\":false,\"awaitingApproval\":[\"k1\"]}]");
        } else {
            problem(x, 404, "Not found", path);
        }
    }

    boolean verify(String armored) throws IOException {
        Path sig = Files.writeString(dir.resolve("sig-" + System.nanoTime()), armored);
        Process p = new ProcessBuilder(
                        "ssh-keygen",
                        "-Y",
                        "verify",
                        "-f",
                        allowedSigners.toString(),
                        "-I",
                        "alice",
                        "-n",
                        "keyhold-approval",
                        "-s",
                        sig.toString())
                .redirectErrorStream(true)
                .start();
        p.getOutputStream().write(statement.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        p.getInputStream().readAllBytes();
        try {
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (InterruptedException e) {
            throw new IOException(e);
        }
    }

    static void reply(HttpExchange x, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "application/json");
        x.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        if (b.length > 0) {
            x.getResponseBody().write(b);
        }
        x.close();
    }

    static void problem(HttpExchange x, int status, String title, String detail) throws IOException {
        byte[] b = Api.JSON.writeValueAsBytes(
                Map.of("type", "about:blank", "title", title, "status", status, "detail", detail));
        x.getResponseHeaders().set("Content-Type", "application/problem+json");
        x.sendResponseHeaders(status, b.length);
        x.getResponseBody().write(b);
        x.close();
    }

    Path sshKey(String name) throws Exception {
        Path k = dir.resolve(name);
        Process p = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", k.toString())
                .redirectErrorStream(true)
                .start();
        p.getInputStream().readAllBytes();
        assertEquals(0, p.waitFor());
        allowedSigners =
                Files.writeString(dir.resolve("allowed_signers"), "alice " + Files.readString(Path.of(k + ".pub")));
        return k;
    }

    record Run(int code, String out, String err) {}

    Run cli(Map<String, String> extraEnv, String... args) {
        Map<String, String> env = new HashMap<>();
        env.put("HOME", dir.toString());
        env.put("KEYHOLD_URL", "http://127.0.0.1:" + server.getAddress().getPort());
        env.putAll(extraEnv);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = KeyholdCli.run(
                args,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                env);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static final Map<String, String> ALICE = Map.of("KEYHOLD_USER", "alice", "KEYHOLD_PASSWORD", "pw");

    @Test
    void approveSignsTheExactStatementWithAKeyFile() throws Exception {
        Path key = sshKey("alice");
        Run r = cli(ALICE, "approve", REQUEST, "--key", key.toString(), "-m", "checked the kid");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("signed and approved: KEY_ACTIVATION of issuer acme"), r.out());
        assertTrue(r.out().contains("1 of 2 approvals"), r.out());
        JsonNode d = decisions.get(0);
        assertEquals("approve", d.path("decision").asText());
        assertEquals("checked the kid", d.path("comment").asText());
        assertEquals("sshsig", d.path("signature").path("format").asText());
        assertTrue(d.path("signature").path("value").asText().startsWith("-----BEGIN SSH SIGNATURE-----"));
        assertEquals(
                List.of(
                        "GET /v1/activations/" + REQUEST + "/statement",
                        "POST /v1/activations/" + REQUEST + "/decisions"),
                seen);
    }

    @Test
    void approveSignsThroughTheSshAgentWithAPublicKeyFile() throws Exception {
        Path key = sshKey("alice");
        Path sock = dir.resolve("agent.sock");
        agent = new ProcessBuilder("ssh-agent", "-D", "-a", sock.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        for (int i = 0; i < 100 && !Files.exists(sock); i++) {
            Thread.sleep(50);
        }
        ProcessBuilder add = new ProcessBuilder("ssh-add", key.toString()).redirectErrorStream(true);
        add.environment().put("SSH_AUTH_SOCK", sock.toString());
        Process a = add.start();
        a.getInputStream().readAllBytes();
        assertEquals(0, a.waitFor());
        // the private key file is gone: only the agent can sign
        Files.delete(key);
        Map<String, String> env = new HashMap<>(ALICE);
        env.put("SSH_AUTH_SOCK", sock.toString());
        env.put("KEYHOLD_SSH_KEY", key + ".pub");
        Run r = cli(env, "approve", REQUEST);
        assertEquals(0, r.code(), r.err());
        assertEquals(1, decisions.size());

        // without the agent, a .pub file cannot sign: a usage error, nothing posted
        Map<String, String> noAgent = new HashMap<>(ALICE);
        Run r2 = cli(noAgent, "approve", REQUEST, "--key", key + ".pub");
        assertEquals(2, r2.code());
        assertTrue(r2.err().contains("SSH_AUTH_SOCK is not set"), r2.err());
        assertEquals(1, decisions.size());
    }

    @Test
    void aSignatureOverOtherBytesIsRefusedByTheServerAndReportedInOneLine() throws Exception {
        Path key = sshKey("alice");
        // a key that is not alice's: the stub's verifier refuses, the CLI shows the problem's title and detail
        Path other = dir.resolve("mallory");
        Process p = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other.toString()).start();
        assertEquals(0, p.waitFor());
        Run r = cli(ALICE, "approve", REQUEST, "--key", other.toString());
        assertEquals(1, r.code());
        assertEquals(
                "keyhold: 422 Invalid approval signature: the signature does not verify over the statement\n", r.err());
        assertTrue(key.toFile().exists());
    }

    @Test
    void showPrintsTheStatementAndSignsNothing() throws Exception {
        Run r = cli(ALICE, "approve", REQUEST, "--show");
        assertEquals(0, r.code(), r.err());
        assertEquals(REQUEST, Api.JSON.readTree(r.out()).path("request").asText());
        assertTrue(decisions.isEmpty());
        assertEquals(List.of("GET /v1/activations/" + REQUEST + "/statement"), seen);
    }

    @Test
    void aStatementForAnotherRequestIsNotSigned() throws Exception {
        Path key = sshKey("alice");
        statement = STATEMENT.replace(REQUEST, "00000000-0000-0000-0000-000000000000");
        Run r = cli(ALICE, "approve", REQUEST, "--key", key.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("names request 00000000-0000-0000-0000-000000000000"), r.err());
        assertTrue(decisions.isEmpty());
    }

    @Test
    void exitCodesAndOneLineErrors() throws Exception {
        Run unauth = cli(Map.of("KEYHOLD_USER", "alice", "KEYHOLD_PASSWORD", "wrong"), "issuers");
        assertEquals(4, unauth.code());
        assertEquals(1, unauth.err().lines().count());
        assertTrue(unauth.err().startsWith("keyhold: authentication failed (401) with user alice"), unauth.err());

        Run forbidden = cli(ALICE, "issuer", "show", "secret");
        assertEquals(4, forbidden.code());
        assertEquals(
                "keyhold: not allowed (403): Forbidden: alice is not a custodian of issuer secret\n", forbidden.err());

        Run missing = cli(ALICE, "issuer", "show", "nope");
        assertEquals(1, missing.code());
        assertEquals("keyhold: 404 Not found: issuer nope does not exist\n", missing.err());

        Run usage = cli(ALICE, "revoke", "k1");
        assertEquals(2, usage.code());
        assertEquals(1, usage.err().lines().count());
        assertTrue(usage.err().contains("--reason"), usage.err());

        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Run down = cli(Map.of("KEYHOLD_URL", "http://127.0.0.1:" + closed), "issuers");
        assertEquals(3, down.code());
        assertEquals(
                "keyhold: cannot reach Keyhold at http://127.0.0.1:" + closed + ": connection refused\n", down.err());

        Run health = cli(Map.of(), "status");
        assertEquals(1, health.code(), health.err());
        assertTrue(health.out().contains("DOWN"), health.out());
    }

    @Test
    void settingsComeFromFlagsThenEnvironmentThenConfigFile() throws Exception {
        Path config = dir.resolve(".config/keyhold/config");
        Files.createDirectories(config.getParent());
        Files.writeString(
                config, "url = http://127.0.0.1:" + server.getAddress().getPort() + "\nuser = alice\npassword = pw\n");
        Map<String, String> env = new HashMap<>();
        env.put("KEYHOLD_URL", "");
        Run fromFile = cli(Map.of("KEYHOLD_URL", ""), "issuers");
        assertEquals(0, fromFile.code(), fromFile.err());
        assertTrue(fromFile.out().contains("acme"), fromFile.out());
        // the environment beats the file, a flag beats the environment
        Run envWins = cli(Map.of("KEYHOLD_URL", "", "KEYHOLD_PASSWORD", "wrong"), "issuers");
        assertEquals(4, envWins.code());
        Run flagWins =
                cli(Map.of("KEYHOLD_URL", "", "KEYHOLD_PASSWORD", "wrong"), "--password", "pw", "issuers", "--json");
        assertEquals(0, flagWins.code(), flagWins.err());
        JsonNode list = Api.JSON.readTree(flagWins.out());
        assertEquals("acme", list.get(0).path("id").asText());
        assertFalse(flagWins.out().contains("ISSUER"));
    }
}
