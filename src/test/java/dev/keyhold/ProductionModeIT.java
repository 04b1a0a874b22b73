package dev.keyhold;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.keyhold.config.SettingScan;
import dev.keyhold.embedded.EmbeddedPostgresServer;
import dev.keyhold.hsm.EmbeddedHsm;
import dev.keyhold.security.BearerTokenTest;
import dev.keyhold.testsupport.KeyholdJar;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packaged jar in production mode, configured the ways an operator configures Quarkus , and
 * its bearer authentication. A real PostgreSQL and real SoftHSM2 tokens are made here and handed to the
 * jar as production settings. Each configuration source that carries the datasource URL must give production mode
 * (no demo users: {@code admin:keyhold-dev} is 401); configurations that would start half-configured are refused
 * with one line and a non-zero exit, before anything is created.
 */
class ProductionModeIT {

    private static final Path BASE = Path.of("target", "keyhold-prod-it").toAbsolutePath();
    private static final String IDP = "https://idp.test.example";
    private static String jdbcUrl;
    private static String dbPassword;
    private static Map<String, String> hsmEnv;

    @BeforeAll
    static void database() throws Exception {
        EmbeddedPostgresServer.stopOrphan(BASE.resolve("pg"));
        deleteRecursively(BASE);
        Files.createDirectories(BASE);
        EmbeddedPostgresServer.Server db = EmbeddedPostgresServer.start(BASE.resolve("pg"));
        jdbcUrl = db.url();
        dbPassword = db.password();
        hsmEnv = new LinkedHashMap<>();
        EmbeddedHsm.prepare(BASE, List.of("default", "audit")).forEach((k, v) -> hsmEnv.put(envName(k), v));
        hsmEnv.put("SOFTHSM2_CONF", EmbeddedHsm.configFile().orElseThrow().toString());
        hsmEnv.put(
                "MP_JWT_VERIFY_PUBLICKEY_LOCATION",
                Path.of("src/test/resources/jwt/test-oidc-public.pem")
                        .toAbsolutePath()
                        .toUri()
                        .toString());
        hsmEnv.put("MP_JWT_VERIFY_ISSUER", IDP);
        hsmEnv.put("MP_JWT_VERIFY_AUDIENCES", "keyhold");
    }

    /** The environment form of a dotted name with a map key: keyhold.hsm.partitions.default.pin → ..._DEFAULT__PIN. */
    private static String envName(String dotted) {
        String[] p = dotted.split("\\.");
        if (dotted.startsWith("keyhold.hsm.partitions.") && p.length == 5) {
            return "KEYHOLD_HSM_PARTITIONS__" + p[3].toUpperCase() + "__"
                    + p[4].toUpperCase().replace('-', '_');
        }
        return dotted.toUpperCase().replaceAll("[^A-Z0-9]", "_");
    }

    @Test
    void aDatasourceUrlInEachConfigurationSourceGivesProductionModeWithoutDemoUsers() throws Exception {
        for (String source : List.of("environment", "system property", ".env", "config/application.properties")) {
            Path work = Files.createDirectories(BASE.resolve("work-" + source.replaceAll("[^a-z]", "")));
            Map<String, String> env = new LinkedHashMap<>(hsmEnv);
            List<String> jvm = new ArrayList<>();
            switch (source) {
                case "environment" -> {
                    env.put("QUARKUS_DATASOURCE_JDBC_URL", jdbcUrl);
                    env.put("QUARKUS_DATASOURCE_USERNAME", "postgres");
                    env.put("QUARKUS_DATASOURCE_PASSWORD", dbPassword);
                }
                case "system property" -> {
                    jvm.add("-Dquarkus.datasource.jdbc.url=" + jdbcUrl);
                    jvm.add("-Dquarkus.datasource.username=postgres");
                    jvm.add("-Dquarkus.datasource.password=" + dbPassword);
                }
                case ".env" ->
                    Files.writeString(
                            work.resolve(".env"),
                            "QUARKUS_DATASOURCE_JDBC_URL=" + jdbcUrl + "\nQUARKUS_DATASOURCE_USERNAME=postgres\n"
                                    + "QUARKUS_DATASOURCE_PASSWORD=" + dbPassword + "\n");
                default ->
                    Files.writeString(
                            Files.createDirectories(work.resolve("config")).resolve("application.properties"),
                            "quarkus.datasource.jdbc.url=" + jdbcUrl + "\nquarkus.datasource.username=postgres\n"
                                    + "quarkus.datasource.password=" + dbPassword + "\n");
            }
            try (KeyholdJar jar = KeyholdJar.start(work, env, jvm).awaitStarted()) {
                assertThat(jar.output()).as(source).doesNotContain("embedded mode");
                assertThat(work.resolve("data")).as(source).doesNotExist();
                HttpResponse<String> demo =
                        jar.call("GET", "/v1/issuers", KeyholdJar.basic("admin", "keyhold-dev"), null);
                assertThat(demo.statusCode()).as(source).isEqualTo(401);
                assertThat(jar.call(
                                        "GET",
                                        "/v1/issuers",
                                        bearer(c -> c.audience("keyhold")
                                                .subject("ops")
                                                .claim("groups", List.of("auditor"))),
                                        null)
                                .statusCode())
                        .as(source)
                        .isEqualTo(200);
                if (source.equals("environment")) {
                    bearerRules(jar);
                }
            }
        }
    }

    /** Bearer audiences over a production-mode instance: one request per rule. */
    private void bearerRules(KeyholdJar jar) throws Exception {
        HttpResponse<String> other = jar.call(
                "GET",
                "/v1/issuers",
                bearer(c -> c.audience("other-app").subject("ops").claim("groups", List.of("auditor"))),
                null);
        assertThat(other.statusCode()).isEqualTo(401);
        assertThat(other.headers().firstValue("WWW-Authenticate")).isPresent();
        HttpResponse<String> none =
                jar.call("GET", "/v1/issuers", bearer(c -> c.subject("ops").claim("groups", List.of("auditor"))), null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).isPresent();
        HttpResponse<String> noSub = jar.call(
                "GET",
                "/v1/issuers",
                bearer(c -> c.audience("keyhold")
                        .claim("preferred_username", "ops")
                        .claim("upn", "ops")
                        .claim("groups", List.of("auditor"))),
                null);
        assertThat(noSub.statusCode()).isEqualTo(401);
        assertThat(noSub.headers().firstValue("WWW-Authenticate")).isPresent();
        String metrics = jar.call("GET", "/q/metrics", null, null).body();
        assertThat(counter(metrics, "audience")).isEqualTo(2.0);
        assertThat(counter(metrics, "principal-claim")).isEqualTo(1.0);
        // the refused tokens never reach the log (their signatures are unique to them)
        assertThat(jar.output()).doesNotContain(lastToken.substring(lastToken.lastIndexOf('.') + 1));
    }

    private static double counter(String metrics, String reason) {
        return metrics.lines()
                .filter(l ->
                        l.startsWith("keyhold_auth_bearer_refused_total{") && l.contains("reason=\"" + reason + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no counter for " + reason + " in\n" + metrics));
    }

    private String lastToken;

    @Test
    void embeddedModeIsRefusedBesideAProductionSetting() throws Exception {
        Path work = Files.createDirectories(BASE.resolve("work-refused-hsm"));
        try (KeyholdJar jar = KeyholdJar.start(
                work,
                Map.of("KEYHOLD_HSM_PARTITIONS__DEFAULT__LIBRARY", "/usr/lib/softhsm/libsofthsm2.so"),
                List.of())) {
            assertThat(jar.awaitExit()).isNotZero();
            assertThat(refusalLines(jar))
                    .singleElement()
                    .asString()
                    .contains("quarkus.datasource.jdbc.url")
                    .satisfies(l ->
                            assertThat(SettingScan.normalize(l)).contains("KEYHOLD_HSM_PARTITIONS_DEFAULT_LIBRARY"));
        }
        assertThat(work.resolve("data")).doesNotExist();
    }

    @Test
    void anApplicationPropertiesInTheWorkingDirectoryIsNotSilentlyIgnored() throws Exception {
        Path work = Files.createDirectories(BASE.resolve("work-refused-file"));
        Files.writeString(work.resolve("application.properties"), "quarkus.datasource.jdbc.url=" + jdbcUrl + "\n");
        try (KeyholdJar jar = KeyholdJar.start(work, Map.of(), List.of())) {
            assertThat(jar.awaitExit()).isNotZero();
            assertThat(refusalLines(jar)).singleElement().asString().contains("config/application.properties");
        }
        assertThat(work.resolve("data")).doesNotExist();
    }

    @Test
    void bearerSettingsWithoutAnAudienceAreRefused() throws Exception {
        Path work = Files.createDirectories(BASE.resolve("work-refused-audience"));
        Map<String, String> env = new LinkedHashMap<>(hsmEnv);
        env.remove("MP_JWT_VERIFY_AUDIENCES");
        env.put("QUARKUS_DATASOURCE_JDBC_URL", jdbcUrl);
        env.put("QUARKUS_DATASOURCE_USERNAME", "postgres");
        env.put("QUARKUS_DATASOURCE_PASSWORD", dbPassword);
        try (KeyholdJar jar = KeyholdJar.start(work, env, List.of())) {
            assertThat(jar.awaitExit()).isNotZero();
            assertThat(refusalLines(jar))
                    .singleElement()
                    .asString()
                    .contains("mp.jwt.verify.audiences")
                    .satisfies(l -> assertThat(SettingScan.normalize(l)).contains("MP_JWT_VERIFY_PUBLICKEY_LOCATION"));
        }
    }

    private static List<String> refusalLines(KeyholdJar jar) {
        String out = jar.output();
        assertThat(out).doesNotContain("Exception").doesNotContain("\tat ");
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    private String bearer(UnaryOperator<JWTClaimsSet.Builder> claims) throws Exception {
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder()
                .issuer(IDP)
                .issueTime(new Date())
                .expirationTime(new Date(System.currentTimeMillis() + 300_000));
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.RS256).build(),
                claims.apply(b).build());
        jwt.sign(new RSASSASigner(BearerTokenTest.providerKey()));
        lastToken = jwt.serialize();
        return "Bearer " + lastToken;
    }

    private static void deleteRecursively(Path p) throws Exception {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
