package dev.keyhold.embedded;

import dev.keyhold.hsm.EmbeddedHsm;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Embedded mode: what a newcomer gets with no configuration. A real PostgreSQL and a SoftHSM2 token per
 * partition, both kept under the data directory, and the demo principals. It is chosen when no datasource
 * URL is configured; production configures {@code quarkus.datasource.*} and {@code keyhold.hsm.*} instead.
 */
public final class EmbeddedMode {

    /** Development-only password of the demo principals; they exist only in embedded mode. */
    public static final String DEMO_PASSWORD = "keyhold-dev";

    /** Demo principal → role. alice, bob and carol are custodians. */
    public static final Map<String, String> DEMO_PRINCIPALS = demoPrincipals();

    private EmbeddedMode() {
    }

    private static Map<String, String> demoPrincipals() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("admin", "admin");
        m.put("alice", "custodian");
        m.put("bob", "custodian");
        m.put("carol", "custodian");
        m.put("scheduler", "scheduler");
        m.put("signer", "signer");
        m.put("auditor", "auditor");
        m.put("validator", "validator");
        return m;
    }

    /** True unless a datasource URL is configured or embedded mode is switched off. */
    public static boolean wanted() {
        if (setting("quarkus.datasource.jdbc.url", "QUARKUS_DATASOURCE_JDBC_URL") != null) {
            return false;
        }
        return !"false".equalsIgnoreCase(setting("keyhold.embedded", "KEYHOLD_EMBEDDED"));
    }

    public static Path dataDir() {
        String d = setting("keyhold.data-dir", "KEYHOLD_DATA_DIR");
        return Path.of(d == null || d.isBlank() ? "data" : d);
    }

    public static List<String> partitions() {
        String p = setting("keyhold.embedded.partitions", "KEYHOLD_EMBEDDED_PARTITIONS");
        if (p == null || p.isBlank()) {
            return List.of("default", "audit");
        }
        return Arrays.stream(p.split(",")).map(String::trim).filter(s -> !s.isEmpty()).distinct().toList();
    }

    /**
     * Starts what embedded mode needs and returns the configuration that points Keyhold at it.
     *
     * @param extraPrincipals further principal → role pairs (tests use them for larger custodian sets)
     */
    public static Map<String, String> start(Path dataDir, List<String> partitions, Map<String, String> extraPrincipals) {
        Map<String, String> config = new LinkedHashMap<>();
        String url = EmbeddedPostgresServer.start(dataDir.resolve("pg"));
        config.put("quarkus.datasource.jdbc.url", url);
        config.put("quarkus.datasource.username", "postgres");
        config.put("quarkus.datasource.password", "");
        config.putAll(EmbeddedHsm.prepare(dataDir, partitions));
        Map<String, String> principals = new LinkedHashMap<>(DEMO_PRINCIPALS);
        principals.putAll(extraPrincipals);
        principals.forEach((user, role) -> {
            config.put("quarkus.security.users.embedded.users." + user, DEMO_PASSWORD);
            config.put("quarkus.security.users.embedded.roles." + user, role);
        });
        config.put("keyhold.embedded.active", "true");
        config.put("keyhold.data-dir", dataDir.toString());
        return config;
    }

    private static String setting(String property, String env) {
        String v = System.getProperty(property);
        return v != null ? v : System.getenv(env);
    }
}
