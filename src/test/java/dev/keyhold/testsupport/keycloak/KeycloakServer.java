package dev.keyhold.testsupport.keycloak;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A real Keycloak for the console's OpenID Connect tests: the {@code org.keycloak:keycloak-quarkus-dist} distribution
 * the build unpacks into target/keycloak, run as a child process in dev mode ({@code kc.sh start-dev}) with the
 * test realm imported. Started once per test JVM and reused (it takes a minute or more to start on two cores);
 * stopped when the JVM exits.
 *
 * <p>State lives in system properties, not static fields: Quarkus may load this class in more than one class loader.
 */
public final class KeycloakServer {

    public static final String REALM = "keyhold";
    public static final String CLIENT_ID = "keyhold-console";
    public static final String CLIENT_SECRET = "keyhold-console-test-secret";
    private static final Path HOME_PARENT = Path.of("target", "keycloak");
    private static final String PID = "test-keycloak.pid";
    private static final String PORT = "test-keycloak.port";
    private static final Duration START_TIMEOUT = Duration.ofMinutes(6);

    private KeycloakServer() {}

    /** Starts Keycloak once per JVM and returns the realm's issuer URL. */
    public static synchronized String ensureStarted() {
        if (System.getProperty(PORT) == null || !running()) {
            start();
        }
        return realmUrl();
    }

    public static String realmUrl() {
        return "http://localhost:" + System.getProperty(PORT) + "/realms/" + REALM;
    }

    private static void start() {
        Path home = home();
        try {
            Path importDir = home.resolve("data").resolve("import");
            Files.createDirectories(importDir);
            try (InputStream realm = KeycloakServer.class.getResourceAsStream("/keycloak/keyhold-realm.json")) {
                Files.copy(realm, importDir.resolve("keyhold-realm.json"), StandardCopyOption.REPLACE_EXISTING);
            }
            // A fresh realm each run: dev mode keeps its H2 database under data/h2, and import skips a realm that
            // exists.
            deleteTree(home.resolve("data").resolve("h2"));
            int port = freePort();
            int management = freePort();
            Path kc = home.resolve("bin").resolve("kc.sh");
            kc.toFile().setExecutable(true);
            ProcessBuilder pb = new ProcessBuilder(List.of(
                            "bash",
                            kc.toString(),
                            "start-dev",
                            "--http-port=" + port,
                            "--http-management-port=" + management,
                            "--import-realm",
                            "--cache=local"))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.to(
                            HOME_PARENT.resolve("keycloak.log").toFile()));
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            pb.environment().put("JAVA_OPTS_APPEND", "-Xms64m -Xmx512m -XX:TieredStopAtLevel=1");
            Process p = pb.start();
            System.setProperty(PID, Long.toString(p.pid()));
            System.setProperty(PORT, Integer.toString(port));
            Runtime.getRuntime().addShutdownHook(new Thread(KeycloakServer::stop, "keycloak-stop"));
            awaitReady(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stops Keycloak and the JVM it started (kc.sh execs java, but be sure about the whole tree). */
    public static void stop() {
        process().ifPresent(p -> {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        });
    }

    private static boolean running() {
        return process().map(ProcessHandle::isAlive).orElse(false);
    }

    private static Optional<ProcessHandle> process() {
        String pid = System.getProperty(PID);
        return pid == null ? Optional.empty() : ProcessHandle.of(Long.parseLong(pid));
    }

    private static Path home() {
        try (Stream<Path> s = Files.list(HOME_PARENT)) {
            return s.filter(d -> d.getFileName().toString().startsWith("keycloak-") && Files.isDirectory(d))
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("no Keycloak under " + HOME_PARENT
                            + ": the build unpacks org.keycloak:keycloak-quarkus-dist there (mvn test-compile)"));
        } catch (IOException e) {
            throw new IllegalStateException(
                    "no Keycloak under " + HOME_PARENT
                            + ": the build unpacks org.keycloak:keycloak-quarkus-dist there (mvn test-compile)",
                    e);
        }
    }

    private static void awaitReady(Process p) {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        URI discovery = URI.create(realmUrl() + "/.well-known/openid-configuration");
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException(
                        "Keycloak exited with " + p.exitValue() + "; see " + HOME_PARENT.resolve("keycloak.log"));
            }
            try {
                HttpResponse<Void> r = http.send(
                        HttpRequest.newBuilder(discovery)
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            try {
                Thread.sleep(500); // polling a child process's readiness, not waiting for time to pass
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        stop();
        throw new IllegalStateException(
                "Keycloak did not start within " + START_TIMEOUT + "; see " + HOME_PARENT.resolve("keycloak.log"));
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
