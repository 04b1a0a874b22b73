package dev.keyhold.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.testsupport.TestEnvironment;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Embedded PostgreSQL: password authentication only (SCRAM-SHA-256, the password in a mode-600 file), no trust
 * entries, loopback only, durable commits. Against the test environment's own cluster (the one every test uses, made
 * by the same code as embedded mode) and against a cluster made the way earlier versions made it.
 */
class EmbeddedPostgresHardeningTest {

    @TempDir
    Path tmp;

    @Test
    void theTestEnvironmentsClusterRequiresThePasswordAndCommitsDurably() throws Exception {
        Map<String, String> config = TestEnvironment.config();
        String url = config.get("quarkus.datasource.jdbc.url");
        String password = config.get("quarkus.datasource.password");
        Path pgDir = TestEnvironment.DIR.resolve("pg");
        checkSecured(pgDir, url, password);
    }

    @Test
    void aTrustClusterOfAnEarlierVersionIsUpgradedInPlaceAndStartsAgainWithThePassword() throws Exception {
        Path dir = tmp.resolve("data/pg");
        Files.createDirectories(dir);
        // what earlier versions left behind: the library's trust cluster, no password file
        EmbeddedPostgres legacy = EmbeddedPostgres.builder()
                .setDataDirectory(dir)
                .setCleanDataDirectory(false)
                .start();
        try (Connection c = DriverManager.getConnection(
                        "jdbc:postgresql://127.0.0.1:" + legacy.getPort() + "/postgres", "postgres", "");
                Statement s = c.createStatement()) {
            s.execute("create table kept (v text)");
            s.execute("insert into kept values ('from before')");
            assertThat(show(s, "fsync")).as("the library's default").isEqualTo("off");
        }
        legacy.close();
        assertThat(EmbeddedPostgresServer.passwordFile(dir)).doesNotExist();

        EmbeddedPostgresServer.Launched first = EmbeddedPostgresServer.launch(dir, Optional.empty());
        try {
            checkSecured(dir, first.server().url(), first.server().password());
            try (Connection c = connect(first.server().url(), first.server().password());
                    Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("select v from kept")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("from before");
            }
        } finally {
            first.process().close();
        }
        // the next start reads the password from its file and needs no trust at any moment
        EmbeddedPostgresServer.Launched second = EmbeddedPostgresServer.launch(dir, Optional.empty());
        try {
            assertThat(second.server().password()).isEqualTo(first.server().password());
            checkSecured(dir, second.server().url(), second.server().password());
        } finally {
            second.process().close();
        }
        // a cluster that trusts nobody and whose password file is gone is refused with a clear message
        Files.delete(EmbeddedPostgresServer.passwordFile(dir));
        assertThatThrownBy(() -> EmbeddedPostgresServer.launch(dir, Optional.empty()))
                .hasMessageContaining("pg-password")
                .hasMessageContaining("missing");
    }

    private static void checkSecured(Path pgDir, String url, String password) throws Exception {
        assertThat(url).startsWith("jdbc:postgresql://127.0.0.1:");
        assertThat(password).isNotBlank().hasSizeGreaterThanOrEqualTo(24);
        Path file = EmbeddedPostgresServer.passwordFile(pgDir);
        assertThat(file)
                .isEqualTo(pgDir.toAbsolutePath().normalize().getParent().resolve("pg-password"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                .isEqualTo("rw-------");
        assertThat(Files.readString(file).strip()).isEqualTo(password);

        // no password, an empty one, a wrong one: refused
        assertThatThrownBy(
                        () -> DriverManager.getConnection(url, "postgres", null).close())
                .isInstanceOf(SQLException.class);
        assertThatThrownBy(
                        () -> DriverManager.getConnection(url, "postgres", "").close())
                .isInstanceOf(SQLException.class);
        assertThatThrownBy(() -> DriverManager.getConnection(url, "postgres", password + "x")
                        .close())
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("password authentication failed");

        try (Connection c = connect(url, password);
                Statement s = c.createStatement()) {
            assertThat(show(s, "fsync")).isEqualTo("on");
            assertThat(show(s, "synchronous_commit")).isEqualTo("on");
            assertThat(show(s, "full_page_writes")).isEqualTo("on");
            assertThat(show(s, "listen_addresses")).isEqualTo("127.0.0.1");
            assertThat(show(s, "password_encryption")).isEqualTo("scram-sha-256");
            try (ResultSet rs = s.executeQuery(
                    "select rolpassword like 'SCRAM-SHA-256$%' from pg_authid" + " where rolname = 'postgres'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getBoolean(1)).as("stored as a SCRAM verifier").isTrue();
            }
            // what the server really applies, not only what the file says
            try (ResultSet rs = s.executeQuery("select count(*) from pg_hba_file_rules where auth_method = 'trust'"
                    + " or auth_method not in ('scram-sha-256')")) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
            }
        }
        String hba = Files.readString(pgDir.resolve("pg_hba.conf"));
        assertThat(hba.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")))
                .isNotEmpty()
                .noneMatch(l -> l.contains("trust"))
                .allMatch(l -> l.endsWith("scram-sha-256"));
    }

    private static Connection connect(String url, String password) throws SQLException {
        return DriverManager.getConnection(url, "postgres", password);
    }

    private static String show(Statement s, String setting) throws SQLException {
        try (ResultSet rs = s.executeQuery("show " + setting)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
