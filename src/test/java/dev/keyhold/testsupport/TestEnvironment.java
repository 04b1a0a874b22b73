package dev.keyhold.testsupport;

import dev.keyhold.embedded.EmbeddedPostgresServer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The one test environment of a JVM: a fresh PostgreSQL and fresh SoftHSM2 tokens under target/keyhold-test.
 * SoftHSM2 reads its configuration once per process, so every test in the JVM shares these tokens.
 */
public final class TestEnvironment {

    /** SoftHSM2 can serve one directory per JVM, so the whole environment lives in TestHsm's. */
    public static final Path DIR = TestHsm.DATA_DIR;

    public static final List<String> PARTITIONS = TestHsm.PARTITIONS;

    private static Map<String, String> config;

    private TestEnvironment() {}

    public static synchronized Map<String, String> config() {
        if (config == null) {
            // TestHsm first: it holds the directory lock, so a second test JVM waits instead of wiping our data.
            TestHsm.config();
            Path pg = DIR.resolve("pg");
            EmbeddedPostgresServer.stopOrphan(pg);
            TestHsm.deleteRecursively(pg);
            // a fresh cluster gets a fresh password (EmbeddedPostgresServer keeps it beside the data directory)
            TestHsm.deleteRecursively(EmbeddedPostgresServer.passwordFile(pg));
            TestHsm.deleteRecursively(DIR.resolve("pg.log"));
            config = KeyholdTestResource.start(DIR);
        }
        return config;
    }
}
