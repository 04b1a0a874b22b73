package dev.keyhold.config;

import io.smallrye.config.SmallRyeConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.Predicate;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigValue;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * Finds which settings of a family are configured, in whatever form a source holds them: dotted in properties
 * files and system properties ({@code quarkus.datasource.jdbc.url}, {@code %prod.quarkus.datasource.jdbc.url}),
 * upper case in the environment and {@code .env} ({@code QUARKUS_DATASOURCE_JDBC_URL}). Names are compared in
 * their environment form, so one rule covers every source.
 */
public final class SettingScan {

    /** A configured setting: its name as the source spells it and the source's name (for the refusal line). */
    public record Found(String name, String source) {
        @Override
        public String toString() {
            return name + " (from " + source + ")";
        }
    }

    private SettingScan() {}

    /** The environment form of a property name: upper case, every run of other characters one '_'. */
    public static String normalize(String name) {
        return name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]+", "_").replaceAll("^_|_$", "");
    }

    /**
     * Every setting whose environment-form name {@code rule} accepts and whose value, as the configuration
     * resolves it, is not blank. A name under a profile ({@code %dev.}) counts only when that profile is active.
     * One entry per setting (the first source that names it, highest ordinal first).
     */
    public static List<Found> find(Config config, Predicate<String> rule) {
        Set<String> profiles = Set.copyOf(
                config instanceof SmallRyeConfig s
                        ? s.getProfiles()
                        : config.unwrap(SmallRyeConfig.class).getProfiles());
        Map<String, Found> found = new LinkedHashMap<>();
        for (ConfigSource source : config.getConfigSources()) {
            for (String raw : names(source)) {
                String name = withoutProfile(raw, profiles);
                if (name == null) {
                    continue;
                }
                String normalized = normalize(name);
                if (found.containsKey(normalized) || !rule.test(normalized)) {
                    continue;
                }
                String value = resolved(config, name, source, raw);
                if (value != null && !value.isBlank()) {
                    found.put(normalized, new Found(name, sourceName(source)));
                }
            }
        }
        return new ArrayList<>(found.values());
    }

    private static Set<String> names(ConfigSource source) {
        try {
            return source.getPropertyNames();
        } catch (RuntimeException e) {
            return Set.of();
        }
    }

    private static String withoutProfile(String raw, Set<String> profiles) {
        if (!raw.startsWith("%")) {
            return raw;
        }
        int dot = raw.indexOf('.');
        if (dot < 0 || !profiles.contains(raw.substring(1, dot))) {
            return null;
        }
        return raw.substring(dot + 1);
    }

    private static String resolved(Config config, String name, ConfigSource source, String raw) {
        try {
            ConfigValue v = config.getConfigValue(name);
            if (v != null && v.getValue() != null) {
                return v.getValue();
            }
        } catch (NoSuchElementException | IllegalArgumentException e) {
            // an expression that does not resolve: Quarkus would fail on it too; count the raw value as set
        }
        return source.getValue(raw);
    }

    private static String sourceName(ConfigSource source) {
        String n = source.getName();
        if (n == null) {
            return source.getClass().getSimpleName();
        }
        if (n.equals("EnvConfigSource")) {
            return "environment";
        }
        if (n.equals("SysPropConfigSource")) {
            return "system properties";
        }
        // PropertiesConfigSource[source=file:/abs/config/application.properties] → the file
        int i = n.indexOf("source=");
        if (i >= 0 && n.endsWith("]")) {
            n = n.substring(i + "source=".length(), n.length() - 1);
        }
        return n.startsWith("file:") ? n.substring("file:".length()) : n;
    }
}
