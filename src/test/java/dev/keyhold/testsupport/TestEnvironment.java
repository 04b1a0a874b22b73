package dev.keyhold.testsupport;

import dev.keyhold.embedded.EmbeddedPostgresServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The one test environment of a JVM: a fresh PostgreSQL and fresh SoftHSM2 tokens under target/keyhold-test.
 * SoftHSM2 reads its configuration once per process, so every test in the JVM shares these tokens.
 */
public final class TestEnvironment {

    public static final Path DIR = Path.of("target/keyhold-test");
    public static final List<String> PARTITIONS = List.of("default", "east", "audit");

    private static Map<String, String> config;

    private TestEnvironment() {
    }

    public static synchronized Map<String, String> config() {
        if (config == null) {
            // TestHsm first: it holds the directory lock, so a second test JVM waits instead of wiping our data.
            TestHsm.config();
            Path pg = DIR.resolve("pg");
            EmbeddedPostgresServer.stopOrphan(pg);
            deleteTree(pg);
            config = KeyholdTestResource.start(DIR);
        }
        return config;
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
