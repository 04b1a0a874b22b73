package dev.keyhold.testsupport;

import java.io.IOException;
import java.net.ServerSocket;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The packaged jar ({@code -Dkeyhold.jar}, set by failsafe) run as a child process, as an operator runs it. */
public final class KeyholdJar implements AutoCloseable {

    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public final Process process;
    public final Path log;
    public final int port;

    private KeyholdJar(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /**
     * Starts the jar in {@code workDir} with {@code env} added to a clean environment (PATH and HOME only, so the
     * test's own environment cannot leak settings in) and {@code jvmArgs} before {@code -jar}.
     */
    public static KeyholdJar start(Path workDir, Map<String, String> env, List<String> jvmArgs) throws IOException {
        return start(workDir, env, jvmArgs, freePort());
    }

    /** The same on a given port (a restart where the clients expect it). */
    public static KeyholdJar start(Path workDir, Map<String, String> env, List<String> jvmArgs, int port)
            throws IOException {
        List<String> cmd = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx384m"));
        cmd.addAll(jvmArgs);
        cmd.add("-jar");
        cmd.add(Path.of(System.getProperty("keyhold.jar")).toAbsolutePath().toString());
        Path log = workDir.resolve("keyhold.log");
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> e = pb.environment();
        String path = e.get("PATH");
        String home = e.get("HOME");
        e.clear();
        e.put("PATH", path == null ? "/usr/bin:/bin" : path);
        if (home != null) {
            e.put("HOME", home);
        }
        e.put("QUARKUS_HTTP_PORT", Integer.toString(port));
        e.putAll(env);
        return new KeyholdJar(pb.start(), log, port);
    }

    /** Waits for the process to exit by itself; returns its exit status. */
    public int awaitExit() throws InterruptedException {
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("Keyhold did not exit: " + output());
        }
        return process.exitValue();
    }

    /** Waits until {@code /q/health/live} answers (the HTTP server is up and Quarkus has started). */
    public KeyholdJar awaitStarted() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("Keyhold exited: " + output());
            }
            try {
                if (call("GET", "/q/health/live", null, null).statusCode() == 200) {
                    return this;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250); // polling a starting process, not waiting for application time to pass
        }
        throw new AssertionError("Keyhold not started in time: " + output());
    }

    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** A request to 127.0.0.1; {@code authorization} is the whole header value, or null. */
    public HttpResponse<String> call(String method, String path, String authorization, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    public static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
