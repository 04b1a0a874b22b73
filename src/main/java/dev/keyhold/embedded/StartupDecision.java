package dev.keyhold.embedded;

import dev.keyhold.config.SettingScan;
import dev.keyhold.security.BearerSettings;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.Config;

/**
 * Decides, before Quarkus starts, whether Keyhold runs in embedded mode or production mode, from the same
 * configuration sources Quarkus reads at run time: system properties (400), environment (300), {@code .env} in
 * the working directory (295), {@code config/application.properties} in the working directory (260),
 * {@code application.properties} on the class path (250), {@code META-INF/microprofile-config.properties} (100),
 * each under the active profile ({@code quarkus.profile}, default {@code prod}).
 *
 * <p>Embedded mode (demo users, a local database) is never chosen when anything says "production": a datasource
 * URL chooses production mode; any other production setting without a datasource URL is refused, since starting
 * embedded would silently ignore it and expose demo users where an operator meant a real deployment.
 */
public final class StartupDecision {

    /** What to do. Exactly one of: refuse with {@code refusal}, start embedded, start in production mode. */
    public record Outcome(boolean embedded, Optional<String> refusal) {
        static Outcome refuse(String line) {
            return new Outcome(false, Optional.of(line));
        }
    }

    private StartupDecision() {}

    /** The configuration Quarkus will read at run time, as far as it can be known before Quarkus starts. */
    public static SmallRyeConfig quarkusSources() {
        SmallRyeConfig first = builder(List.of()).build();
        String profile = first.getOptionalValue("quarkus.profile", String.class).orElse("prod");
        List<String> profiles = Arrays.stream(profile.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toList();
        SmallRyeConfigBuilder b = builder(profiles);
        first.getOptionalValue("quarkus.config.locations", String.class)
                .ifPresent(l -> b.withDefaultValue("smallrye.config.locations", l));
        return b.build();
    }

    private static SmallRyeConfigBuilder builder(List<String> profiles) {
        SmallRyeConfigBuilder b = new SmallRyeConfigBuilder()
                .forClassLoader(Thread.currentThread().getContextClassLoader())
                .addDefaultSources()
                .addDefaultInterceptors()
                .withSources(new io.smallrye.config.PropertiesLocationConfigSourceFactory());
        if (!profiles.isEmpty()) {
            b.withProfiles(profiles);
        }
        return b;
    }

    /** The settings that only a production deployment has: a database, an HSM partition, bearer or OIDC login. */
    public static boolean isProductionSetting(String normalized) {
        return isDatasourceSetting(normalized)
                || normalized.startsWith("KEYHOLD_HSM_PARTITIONS_")
                || BearerSettings.isBearerSetting(normalized)
                || normalized.equals("MP_JWT_VERIFY_AUDIENCES")
                || (normalized.startsWith("QUARKUS_OIDC_") && normalized.endsWith("AUTH_SERVER_URL"));
    }

    private static boolean isDatasourceSetting(String normalized) {
        return normalized.startsWith("QUARKUS_DATASOURCE_")
                && (normalized.endsWith("_URL")
                        || normalized.endsWith("_USERNAME")
                        || normalized.endsWith("_PASSWORD"));
    }

    private static boolean isDatasourceUrl(String normalized) {
        return normalized.startsWith("QUARKUS_DATASOURCE_") && normalized.endsWith("_URL");
    }

    /**
     * @param config  the configuration Quarkus will read ({@link #quarkusSources()})
     * @param workDir the working directory (where an {@code application.properties} is ignored by Quarkus)
     */
    public static Outcome decide(Config config, Path workDir) {
        Optional<String> ignored = ignoredFile(workDir);
        if (ignored.isPresent()) {
            return Outcome.refuse(ignored.get());
        }
        Optional<String> bearer = BearerSettings.refusal(config);
        if (bearer.isPresent()) {
            return Outcome.refuse(bearer.get());
        }
        List<SettingScan.Found> production = SettingScan.find(config, StartupDecision::isProductionSetting);
        boolean datasource = production.stream().anyMatch(f -> isDatasourceUrl(SettingScan.normalize(f.name())));
        String embedded = config.getOptionalValue("keyhold.embedded", String.class)
                .orElse("")
                .trim();
        if (embedded.equalsIgnoreCase("true") && !production.isEmpty()) {
            return Outcome.refuse("keyhold.embedded=true, but a production setting is present: " + production.get(0)
                    + ". Embedded mode (demo users, local database) never runs beside production settings.");
        }
        if (datasource || embedded.equalsIgnoreCase("false")) {
            return new Outcome(false, Optional.empty());
        }
        if (!production.isEmpty()) {
            return Outcome.refuse("a production setting is present ("
                    + production.stream().map(SettingScan.Found::toString).collect(Collectors.joining(", "))
                    + ") but no datasource URL"
                    + " (quarkus.datasource.jdbc.url / QUARKUS_DATASOURCE_JDBC_URL): Keyhold will not start in embedded"
                    + " mode (demo users, local database) beside production settings. Configure the database too, or"
                    + " remove the setting.");
        }
        return new Outcome(true, Optional.empty());
    }

    /**
     * Quarkus reads {@code config/application.properties} in the working directory, not {@code application.properties}
     * there. A production setting in the latter would be silently ignored (and Keyhold would start embedded).
     */
    static Optional<String> ignoredFile(Path workDir) {
        Path file = workDir.resolve("application.properties");
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        PropertiesConfigSource source;
        try {
            source = new PropertiesConfigSource(file.toUri().toURL(), 1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SmallRyeConfig only = new SmallRyeConfigBuilder()
                .withSources(source)
                .withProfile("prod")
                .build();
        List<SettingScan.Found> found = SettingScan.find(only, StartupDecision::isProductionSetting);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(
                file.toAbsolutePath().normalize() + " sets " + found.get(0).name() + ", but Quarkus does not"
                        + " read application.properties from the working directory: move the file to config/application.properties");
    }
}
