package dev.keyhold;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * README command 1 as a newcomer runs it: the packaged jar in embedded mode, honouring KEYHOLD_DATA_DIR and
 * QUARKUS_HTTP_PORT, keeping its data across a clean stop and across a crash (kill -9), listening on 127.0.0.1
 * unless QUARKUS_HTTP_HOST says otherwise.
 */
class EmbeddedJarIT {

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopAll() throws Exception {
        for (Process p : started) {
            p.destroy();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void startsEmbeddedAndKeepsItsDataAcrossRestartsAndCrashes() throws Exception {
        Path data = Files.createTempDirectory("keyhold-it");
        int port = freePort();
        Path log1 = data.resolveSibling(data.getFileName() + "-1.log");

        Process first = start(data, port, log1);
        awaitReady(port, first, log1);
        String out = Files.readString(log1);
        assertThat(out).contains("Listening on").contains("embedded mode").doesNotContain("keyhold-dev\"");
        // embedded mode (published demo passwords) listens on loopback only, and says so
        assertThat(out).contains("listening on http://127.0.0.1:" + port);
        InetAddress external = nonLoopbackAddress();
        assertThat(reachable(external, port))
                .as("embedded mode reachable on " + external)
                .isFalse();
        assertThat(Files.isDirectory(data.resolve("pg"))).isTrue();
        assertThat(Files.isRegularFile(data.resolve("hsm/default.pin"))).isTrue();
        // the token PIN never reaches the log
        assertThat(out)
                .doesNotContain(
                        Files.readString(data.resolve("hsm/default.pin")).trim());
        // the embedded PostgreSQL's password: owner-only, never logged; initdb's and PostgreSQL's chatter stays out
        Path pgPassword = data.resolve("pg-password");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(pgPassword)))
                .isEqualTo("rw-------");
        assertThat(out).doesNotContain(Files.readString(pgPassword).trim());
        assertThat(out)
                .doesNotContain("initdb")
                .doesNotContain("postmaster")
                .doesNotContain("database system is ready");
        // the demo custodians' SSH keys, made and enrolled at the first start
        for (String custodian : List.of("alice", "bob", "carol")) {
            Path key = data.resolve("custodian-keys").resolve(custodian);
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(key)))
                    .isEqualTo("rw-------");
            String blob = Files.readString(data.resolve("custodian-keys").resolve(custodian + ".pub"))
                    .split(" ")[1];
            assertThat(call(port, "GET", "/v1/custodians/me/credentials", custodian, null)
                            .body())
                    .contains(blob);
        }

        assertThat(call(
                                port,
                                "POST",
                                "/v1/issuers",
                                "admin",
                                "{\"id\":\"it\",\"issuerUri\":\"https://it.example\","
                                        + "\"audiences\":[\"api\"],\"custodians\":[\"alice\",\"bob\",\"carol\"],\"signers\":[\"signer\"]}")
                        .statusCode())
                .isEqualTo(201);
        HttpResponse<String> rotated = call(port, "POST", "/v1/issuers/it/rotations", "scheduler", "{}");
        assertThat(rotated.statusCode()).isEqualTo(201);
        String kid = rotated.body().replaceAll(".*\"kid\":\"([^\"]+)\".*", "$1");
        assertThat(call(port, "GET", "/issuers/it/.well-known/jwks.json", null, null)
                        .body())
                .contains(kid);

        // a clean stop, then a restart on the same data
        first.destroy();
        assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
        Process second = start(data, port, data.resolveSibling(data.getFileName() + "-2.log"));
        awaitReady(port, second, data.resolveSibling(data.getFileName() + "-2.log"));
        assertThat(call(port, "GET", "/issuers/it/.well-known/jwks.json", null, null)
                        .body())
                .contains(kid);
        HttpResponse<String> again = call(port, "POST", "/v1/issuers/it/rotations", "scheduler", "{}");
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.body()).contains(kid);

        // a crash: no shutdown hooks run, PostgreSQL is left behind and must be picked up again
        second.destroyForcibly();
        second.waitFor(30, TimeUnit.SECONDS);
        Path log3 = data.resolveSibling(data.getFileName() + "-3.log");
        // an explicit QUARKUS_HTTP_HOST wins
        Process third = start(data, port, log3, "0.0.0.0");
        awaitReady(port, third, log3);
        assertThat(call(port, "GET", "/v1/issuers/it", "auditor", null).statusCode())
                .isEqualTo(200);
        assertThat(Files.readString(log3)).contains("listening on http://0.0.0.0:" + port);
        assertThat(reachable(external, port))
                .as("reachable on " + external + " with QUARKUS_HTTP_HOST=0.0.0.0")
                .isTrue();
        assertThat(call(port, "GET", "/issuers/it/.well-known/jwks.json", null, null)
                        .body())
                .contains(kid);

        // a clean stop after the crash also stops the PostgreSQL it adopted: nothing is left running
        third.destroy();
        assertThat(third.waitFor(60, TimeUnit.SECONDS)).isTrue();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (Files.exists(data.resolve("pg/postmaster.pid")) && System.nanoTime() < deadline) {
            Thread.sleep(200); // PostgreSQL removes its pid file as it exits
        }
        assertThat(data.resolve("pg/postmaster.pid")).doesNotExist();
    }

    private Process start(Path data, int port, Path log) throws IOException {
        return start(data, port, log, null);
    }

    private Process start(Path data, int port, Path log, String host) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx512m",
                        "-jar",
                        System.getProperty("keyhold.jar"))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("KEYHOLD_DATA_DIR", data.toString());
        pb.environment().put("QUARKUS_HTTP_PORT", Integer.toString(port));
        pb.environment().remove("QUARKUS_DATASOURCE_JDBC_URL");
        pb.environment().remove("QUARKUS_HTTP_HOST");
        if (host != null) {
            pb.environment().put("QUARKUS_HTTP_HOST", host);
        }
        Process p = pb.start();
        started.add(p);
        return p;
    }

    private void awaitReady(int port, Process p, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new AssertionError("Keyhold exited: " + Files.readString(log));
            }
            try {
                if (call(port, "GET", "/q/health/ready", null, null).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250); // polling a starting process, not waiting for application time to pass
        }
        throw new AssertionError("Keyhold not ready in time: " + Files.readString(log));
    }

    private HttpResponse<String> call(int port, String method, String path, String user, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (user != null) {
            b.header(
                    "Authorization",
                    "Basic "
                            + Base64.getEncoder()
                                    .encodeToString((user + ":keyhold-dev").getBytes(StandardCharsets.UTF_8)));
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** An IPv4 address of this machine other than loopback (CI machines have one). */
    private static InetAddress nonLoopbackAddress() throws IOException {
        for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!ni.isUp() || ni.isLoopback()) {
                continue;
            }
            for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
                    return a;
                }
            }
        }
        throw new AssertionError("this machine has no non-loopback IPv4 address to test embedded mode's binding on");
    }

    private static boolean reachable(InetAddress address, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, port), 3000);
            return true;
        } catch (IOException refused) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
