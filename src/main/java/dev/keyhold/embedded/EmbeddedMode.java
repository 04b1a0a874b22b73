package dev.keyhold.embedded;

import dev.keyhold.hsm.EmbeddedHsm;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.config.Config;

/**
 * Embedded mode: what a newcomer gets with no configuration. A real PostgreSQL and a SoftHSM2 token per
 * partition, both kept under the data directory, and the demo principals, listening on 127.0.0.1 by default.
 * {@link StartupDecision} chooses it only when no production setting is configured anywhere.
 */
public final class EmbeddedMode {

    /** Development-only password of the demo principals; they exist only in embedded mode. */
    public static final String DEMO_PASSWORD = "keyhold-dev";

    /** Embedded mode's default listening address. */
    public static final String LOOPBACK = "127.0.0.1";

    /** Demo principal → role. alice, bob and carol are custodians. */
    public static final Map<String, String> DEMO_PRINCIPALS = demoPrincipals();

    private EmbeddedMode() {}

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

    /** Where embedded mode keeps its data ({@code keyhold.data-dir}, default {@code ./data}). */
    public static Path dataDir(Config config) {
        String d = config.getOptionalValue("keyhold.data-dir", String.class).orElse("");
        return Path.of(d.isBlank() ? "data" : d);
    }

    /** The partitions embedded mode makes tokens for ({@code keyhold.embedded.partitions}). */
    public static List<String> partitions(Config config) {
        String p = config.getOptionalValue("keyhold.embedded.partitions", String.class)
                .orElse("");
        if (p.isBlank()) {
            return List.of("default", "audit", "trust");
        }
        return Arrays.stream(p.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .distinct()
                .toList();
    }

    /**
     * The address embedded mode listens on: 127.0.0.1 (its demo users have published passwords) unless
     * {@code quarkus.http.host} is configured explicitly.
     */
    public static Optional<String> defaultHost(Config config) {
        return config.getOptionalValue("quarkus.http.host", String.class).isPresent()
                ? Optional.empty()
                : Optional.of(LOOPBACK);
    }

    /**
     * Starts what embedded mode needs and returns the configuration that points Keyhold at it.
     *
     * @param extraPrincipals further principal → role pairs (tests use them for larger custodian sets)
     */
    public static Map<String, String> start(
            Path dataDir, List<String> partitions, Map<String, String> extraPrincipals) {
        Map<String, String> config = new LinkedHashMap<>();
        EmbeddedPostgresServer.Server db = EmbeddedPostgresServer.start(dataDir.resolve("pg"));
        config.put("quarkus.datasource.jdbc.url", db.url());
        config.put("quarkus.datasource.username", db.username());
        config.put("quarkus.datasource.password", db.password());
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
}
