package dev.keyhold.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.config.SettingScan;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Embedded mode only when nothing says "production", in any form a configuration source spells it; bearer
 * settings only with an audience. Pure: configurations are built from maps the way Quarkus builds them from
 * the environment (ordinal 300) and properties files (250/260). The packaged jar over real files is
 * {@code dev.keyhold.ProductionModeIT}.
 */
class StartupDecisionTest {

    @TempDir
    Path workDir;

    private static SmallRyeConfig config(Map<String, String> env, Map<String, String> properties) {
        return new SmallRyeConfigBuilder()
                .withProfile("prod")
                .withSources(new EnvConfigSource(env, 300))
                .withSources(new PropertiesConfigSource(properties, "config/application.properties", 260))
                .build();
    }

    private StartupDecision.Outcome decide(Map<String, String> env, Map<String, String> properties) {
        return StartupDecision.decide(config(env, properties), workDir);
    }

    @Test
    void nothingConfiguredIsEmbedded() {
        StartupDecision.Outcome o = decide(
                Map.of(),
                Map.of(
                        "keyhold.jwks.max-age",
                        "PT5M",
                        "quarkus.datasource.db-kind",
                        "postgresql",
                        "quarkus.datasource.jdbc.max-size",
                        "32"));
        assertThat(o.embedded()).isTrue();
        assertThat(o.refusal()).isEmpty();
    }

    @Test
    void aDatasourceUrlInAnyFormIsProduction() {
        for (var o : new StartupDecision.Outcome[] {
            decide(Map.of("QUARKUS_DATASOURCE_JDBC_URL", "jdbc:postgresql://db/keyhold"), Map.of()),
            decide(Map.of(), Map.of("quarkus.datasource.jdbc.url", "jdbc:postgresql://db/keyhold")),
            decide(Map.of(), Map.of("%prod.quarkus.datasource.jdbc.url", "jdbc:postgresql://db/keyhold")),
            decide(Map.of(), Map.of("quarkus.datasource.\"main\".jdbc.url", "jdbc:postgresql://db/keyhold"))
        }) {
            assertThat(o.embedded()).isFalse();
            assertThat(o.refusal()).isEmpty();
        }
    }

    @Test
    void otherProfilesAndBlankValuesDoNotCount() {
        assertThat(decide(Map.of(), Map.of("%dev.quarkus.datasource.jdbc.url", "jdbc:postgresql://db/k"))
                        .embedded())
                .isTrue();
        assertThat(decide(Map.of("QUARKUS_DATASOURCE_JDBC_URL", ""), Map.of()).embedded())
                .isTrue();
        assertThat(decide(Map.of(), Map.of("quarkus.datasource.jdbc.url", "${NOT_SET_ANYWHERE:}"))
                        .embedded())
                .isTrue();
    }

    @Test
    void productionSettingsWithoutADatabaseAreRefusedNotEmbedded() {
        Map<String, String> hsm = Map.of("KEYHOLD_HSM_PARTITIONS__DEFAULT__LIBRARY", "/usr/lib/hsm.so");
        assertThat(decide(hsm, Map.of()).refusal())
                .hasValueSatisfying(line -> assertThat(line)
                        .contains("quarkus.datasource.jdbc.url")
                        .contains("environment")
                        .doesNotContain("\n")
                        .satisfies(l -> assertThat(SettingScan.normalize(l))
                                .contains("KEYHOLD_HSM_PARTITIONS_DEFAULT_LIBRARY")));
        assertThat(decide(Map.of(), Map.of("keyhold.hsm.partitions.default.pin", "1234"))
                        .refusal())
                .hasValueSatisfying(line -> assertThat(line)
                        .contains("keyhold.hsm.partitions.default.pin")
                        .doesNotContain("1234"));
        assertThat(decide(Map.of("QUARKUS_DATASOURCE_PASSWORD", "secret"), Map.of())
                        .refusal())
                .isPresent();
        assertThat(decide(Map.of("QUARKUS_OIDC_AUTH_SERVER_URL", "https://idp"), Map.of())
                        .refusal())
                .isPresent();
        assertThat(decide(
                                Map.of(
                                        "MP_JWT_VERIFY_PUBLICKEY_LOCATION",
                                        "https://idp/jwks",
                                        "MP_JWT_VERIFY_AUDIENCES",
                                        "keyhold"),
                                Map.of())
                        .refusal())
                .isPresent();
    }

    @Test
    void embeddedSwitchedOnBesideProductionIsRefused() {
        assertThat(decide(
                                Map.of(
                                        "KEYHOLD_EMBEDDED",
                                        "true",
                                        "QUARKUS_DATASOURCE_JDBC_URL",
                                        "jdbc:postgresql://db/k"),
                                Map.of())
                        .refusal())
                .hasValueSatisfying(l -> assertThat(l).contains("keyhold.embedded=true"));
        StartupDecision.Outcome off = decide(Map.of("KEYHOLD_EMBEDDED", "false"), Map.of());
        assertThat(off.embedded()).isFalse();
        assertThat(off.refusal()).isEmpty();
    }

    @Test
    void bearerSettingsWithoutAnAudienceAreRefusedInEveryMode() {
        Map<String, String> db = Map.of("QUARKUS_DATASOURCE_JDBC_URL", "jdbc:postgresql://db/k");
        for (String bearer :
                new String[] {"MP_JWT_VERIFY_PUBLICKEY_LOCATION", "MP_JWT_VERIFY_ISSUER", "MP_JWT_VERIFY_PUBLICKEY"}) {
            Map<String, String> env = new java.util.HashMap<>(db);
            env.put(bearer, "x");
            assertThat(decide(env, Map.of()).refusal())
                    .as(bearer)
                    .hasValueSatisfying(line -> assertThat(SettingScan.normalize(line))
                            .startsWith("MP_JWT_VERIFY_AUDIENCES_MP_JWT_VERIFY_AUDIENCES_IS_NOT_SET")
                            .contains(bearer));
            env.put("MP_JWT_VERIFY_AUDIENCES", "keyhold");
            assertThat(decide(env, Map.of()).refusal()).as(bearer).isEmpty();
        }
        assertThat(decide(Map.of(), Map.of("mp.jwt.verify.publickey.location", "https://idp/jwks"))
                        .refusal())
                .hasValueSatisfying(line -> assertThat(line).contains("mp.jwt.verify.audiences"));
    }

    @Test
    void anApplicationPropertiesQuarkusDoesNotReadIsRefusedWhenItHoldsProductionSettings() throws Exception {
        Files.writeString(workDir.resolve("application.properties"), "keyhold.jwks.max-age=PT1M\n");
        assertThat(decide(Map.of(), Map.of()).embedded()).isTrue();
        Files.writeString(
                workDir.resolve("application.properties"), "quarkus.datasource.jdbc.url=jdbc:postgresql://db/k\n");
        assertThat(decide(Map.of(), Map.of()).refusal())
                .hasValueSatisfying(line ->
                        assertThat(line).contains("application.properties").contains("config/application.properties"));
        // also when the database is configured elsewhere: nothing starts half-configured
        assertThat(decide(Map.of("QUARKUS_DATASOURCE_JDBC_URL", "jdbc:postgresql://db/k"), Map.of())
                        .refusal())
                .isPresent();
    }

    @Test
    void embeddedListensOnLoopbackUnlessTheHostIsConfigured() {
        assertThat(EmbeddedMode.defaultHost(config(Map.of(), Map.of()))).hasValue("127.0.0.1");
        assertThat(EmbeddedMode.defaultHost(config(Map.of("QUARKUS_HTTP_HOST", "0.0.0.0"), Map.of())))
                .isEmpty();
    }
}
