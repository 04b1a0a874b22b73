package dev.keyhold.testsupport.kafka;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * A real Kafka broker for tests and the benchmark: a child JVM running {@link KafkaBrokerMain} on the test
 * classpath. One per test JVM; stop and start it to simulate an outage (same ports, same data).
 *
 * <p>Its state (ports, directory, process id) lives in system properties, not in static fields: Quarkus may load
 * this class in more than one class loader (test resources vs. test classes), and every copy must see the one
 * broker.
 */
public final class KafkaBroker {

    private static final String PID = "test-kafka-broker.pid";
    private static final String PORT = "test-kafka-broker.port";
    private static final String CONTROLLER_PORT = "test-kafka-broker.controller-port";
    private static final String DIR = "test-kafka-broker.dir";
    // A wait for a child process, not a performance bound: a loaded 2-core machine can take over a minute to start it.
    private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

    private KafkaBroker() {}

    /** Starts the broker once per JVM (later calls return the running one) and returns its bootstrap servers. */
    public static synchronized String ensureStarted(Path dir) {
        if (System.getProperty(PORT) == null) {
            deleteTree(dir);
            System.setProperty(DIR, dir.toAbsolutePath().toString());
            System.setProperty(PORT, Integer.toString(freePort()));
            System.setProperty(CONTROLLER_PORT, Integer.toString(freePort()));
            Runtime.getRuntime().addShutdownHook(new Thread(KafkaBroker::kill, "kafka-broker-stop"));
        }
        if (!running()) {
            start();
        }
        return bootstrapServers();
    }

    public static String bootstrapServers() {
        return "127.0.0.1:" + System.getProperty(PORT);
    }

    /** Creates a topic unless it exists. */
    public static void createTopic(String name, int partitions) {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException(e);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** An outage: the broker process stops (SIGTERM, a clean shutdown) and its port refuses connections. */
    public static synchronized void stop() {
        process().ifPresent(p -> {
            p.destroy();
            try {
                p.onExit().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
            }
        });
        System.clearProperty(PID);
    }

    /** Starts the broker again on the same ports with the same data, and waits until it answers. */
    public static synchronized void start() {
        if (running()) {
            return;
        }
        Path dir = Path.of(System.getProperty(DIR));
        try {
            Files.createDirectories(dir);
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(List.of("-Xms128m", "-Xmx512m", "-XX:+UseSerialGC"));
            if (System.getProperty("bench") == null) {
                cmd.add("-XX:TieredStopAtLevel=1"); // tests: start fast; the benchmark wants the full JIT
            }
            cmd.addAll(List.of(
                    "-Djava.awt.headless=true",
                    "-Djava.util.logging.manager=org.jboss.logmanager.LogManager",
                    "-cp",
                    System.getProperty("java.class.path"),
                    KafkaBrokerMain.class.getName(),
                    dir.toString(),
                    System.getProperty(PORT),
                    System.getProperty(CONTROLLER_PORT)));
            File log = dir.resolve("broker.log").toFile();
            Process p = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log))
                    .start();
            System.setProperty(PID, Long.toString(p.pid()));
            awaitReady(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static boolean running() {
        return process().map(ProcessHandle::isAlive).orElse(false);
    }

    private static void kill() {
        process().ifPresent(ProcessHandle::destroyForcibly);
    }

    private static Optional<ProcessHandle> process() {
        String pid = System.getProperty(PID);
        return pid == null ? Optional.empty() : ProcessHandle.of(Long.parseLong(pid));
    }

    private static void awaitReady(Process p) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("Kafka broker exited with " + p.exitValue() + "; see "
                        + System.getProperty(DIR) + "/broker.log");
            }
            try (Admin admin = admin()) {
                admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                last = new IllegalStateException(e);
            }
            sleep(200);
        }
        throw new IllegalStateException("Kafka broker did not start within " + START_TIMEOUT, last);
    }

    private static Admin admin() {
        return Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                5000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                10000));
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (var s = Files.walk(p)) {
            s.sorted(java.util.Comparator.reverseOrder())
                    .forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
