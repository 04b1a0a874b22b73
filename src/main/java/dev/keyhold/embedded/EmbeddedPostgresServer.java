package dev.keyhold.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;
import org.postgresql.PGConnection;

/**
 * A real PostgreSQL for embedded mode, its data kept in a directory of ours so it survives restarts.
 * The binaries come from a Maven artifact, so nothing needs installing.
 *
 * <p><b>Hardened</b> (a local account on a laptop must not be able to write Keyhold's tables, and a power cut must
 * not lose committed audit records):
 * <ul>
 *   <li>password authentication only (SCRAM-SHA-256): {@code pg_hba.conf} has no {@code trust} entry. The password
 *   is random, made at the first start and kept in {@code pg-password} beside the data directory
 *   ({@code $KEYHOLD_DATA_DIR/pg-password}), readable by its owner only (mode 600). It is never logged, and it
 *   reaches the server only as a SCRAM verifier computed here;</li>
 *   <li>listening on 127.0.0.1 only;</li>
 *   <li>durable commits: {@code fsync}, {@code synchronous_commit} and {@code full_page_writes} on (the library's
 *   defaults turn the first two off).</li>
 * </ul>
 * The library's {@code initdb} always makes a {@code trust} cluster, so the password is set right after the first
 * start over that still-trusted loopback connection, then {@code pg_hba.conf} is rewritten and reloaded. A data
 * directory made by an earlier version (trust, no password file) is upgraded the same way at its next start.
 *
 * <p>The server's and {@code initdb}'s own output goes to {@code pg.log} beside the data directory, not to
 * Keyhold's log.
 */
public final class EmbeddedPostgresServer {

    private static final Logger LOG = Logger.getLogger(EmbeddedPostgresServer.class);

    /** The database role Keyhold connects as. */
    public static final String USER = "postgres";

    /** Loopback only, by address: "localhost" may also mean ::1. */
    static final String HOST = "127.0.0.1";

    /** The server settings embedded mode runs with (on top of the library's timezone and max_connections). */
    static final Map<String, String> SERVER_CONFIG = serverConfig();

    private static final Pattern TRUST = Pattern.compile("(?m)^\\s*[^#\\s].*\\btrust\\b");

    /** pg_hba.conf as Keyhold writes it: SCRAM for every connection, over the socket or loopback. */
    static final String HBA = """
            # Written by Keyhold (embedded mode): password authentication (SCRAM-SHA-256) for every connection,
            # loopback and the local socket only, and no trust entries. The password is in ../pg-password.
            # TYPE  DATABASE        USER            ADDRESS                 METHOD
            local   all             all                                     scram-sha-256
            host    all             all             127.0.0.1/32            scram-sha-256
            host    all             all             ::1/128                 scram-sha-256
            local   replication     all                                     scram-sha-256
            host    replication     all             127.0.0.1/32            scram-sha-256
            host    replication     all             ::1/128                 scram-sha-256
            """;

    /**
     * Keeps the library's own info lines ("initdb completed", "postmaster started") out of the startup output; set
     * the category {@code io.zonky} to DEBUG to see them. Held so the setting is not collected with the logger.
     */
    private static final java.util.logging.Logger LIBRARY_LOG = quietLibrary();

    private static final SecureRandom RANDOM = new SecureRandom();

    /** How to reach the server. {@link #toString} leaves the password out. */
    public record Server(String url, String username, String password) {
        @Override
        public String toString() {
            return "Server[url=" + url + ", username=" + username + ", password=(hidden)]";
        }
    }

    private static EmbeddedPostgres running;
    private static Path runningDir;
    private static Server runningServer;

    private EmbeddedPostgresServer() {}

    private static Map<String, String> serverConfig() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("listen_addresses", HOST);
        m.put("fsync", "on");
        m.put("synchronous_commit", "on");
        m.put("full_page_writes", "on");
        m.put("password_encryption", "scram-sha-256");
        return Map.copyOf(m);
    }

    private static java.util.logging.Logger quietLibrary() {
        java.util.logging.Logger l = java.util.logging.Logger.getLogger("io.zonky.test.db.postgres");
        if (l.getLevel() == null) {
            l.setLevel(java.util.logging.Level.WARNING);
        }
        return l;
    }

    /** The password file of the cluster in {@code dataDir}: {@code pg-password} beside it. */
    public static Path passwordFile(Path dataDir) {
        return dataDir.toAbsolutePath().normalize().resolveSibling("pg-password");
    }

    /** Starts (or finds already running) the server for {@code dataDir}; returns how to connect to it. */
    public static synchronized Server start(Path dataDir) {
        Path dir = dataDir.toAbsolutePath().normalize();
        if (runningServer != null) {
            if (!dir.equals(runningDir)) {
                throw new IllegalStateException("embedded PostgreSQL already runs for " + runningDir);
            }
            return runningServer;
        }
        // A process killed without shutdown hooks (a crash, or a crash test's halt) leaves its postmaster
        // running; reusing it beats refusing to start over a lock file.
        Optional<Postmaster> orphan = livePostmaster(dir);
        Launched launched = launch(dir, orphan.map(Postmaster::port));
        if (orphan.isPresent()) {
            // Adopted: it is ours now, so it stops when we do, as a server we started would.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> stopOrphan(dir), "embedded-pg-stop"));
        } else {
            running = launched.process();
            Runtime.getRuntime().addShutdownHook(new Thread(EmbeddedPostgresServer::stopQuietly, "embedded-pg-stop"));
        }
        runningDir = dir;
        runningServer = launched.server();
        return runningServer;
    }

    /** A cluster started (or adopted: {@code process} null) and secured by {@link #launch}. */
    record Launched(EmbeddedPostgres process, Server server) {}

    /**
     * Starts the cluster in {@code dir} (or uses the postmaster already running on {@code adoptedPort}) with embedded
     * mode's settings and secures it ({@link #harden}). No singleton, no shutdown hook: {@link #start} adds those.
     */
    static Launched launch(Path dir, Optional<Integer> adoptedPort) {
        Path passwordFile = passwordFile(dir);
        Optional<String> known = readPassword(passwordFile);
        requirePasswordIfLocked(dir, passwordFile, known);
        EmbeddedPostgres pg = null;
        int port;
        if (adoptedPort.isPresent()) {
            port = adoptedPort.get();
        } else {
            Path serverLog = dir.resolveSibling("pg.log");
            try {
                Files.createDirectories(dir);
                EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                        .setDataDirectory(dir)
                        .setCleanDataDirectory(false)
                        .setPort(freePort())
                        .setOutputRedirector(ProcessBuilder.Redirect.appendTo(serverLog.toFile()))
                        .setErrorRedirector(ProcessBuilder.Redirect.appendTo(serverLog.toFile()));
                SERVER_CONFIG.forEach(builder::setServerConfig);
                // The library's readiness probe connects as postgres: with the password once the cluster has one.
                known.ifPresent(p -> builder.setConnectConfig("password", p));
                pg = builder.start();
                port = pg.getPort();
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException(
                        "could not start embedded PostgreSQL in " + dir + ": " + e.getMessage() + tail(serverLog), e);
            }
            LOG.debugf("embedded PostgreSQL listens on %s:%d; its own log is %s", HOST, port, serverLog);
        }
        String url = url(port);
        try {
            return new Launched(pg, new Server(url, USER, harden(dir, url, passwordFile, known)));
        } catch (RuntimeException e) {
            if (pg != null) {
                try {
                    pg.close();
                } catch (IOException | RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /**
     * Makes sure the cluster requires the password from {@code passwordFile} and trusts nobody: when the password
     * file is missing or {@code pg_hba.conf} still has a trust entry (a first start, a data directory from an
     * earlier version, or a crash half-way through this), sets the password over the still-trusted connection,
     * rewrites {@code pg_hba.conf} and reloads. Returns the password.
     */
    static String harden(Path dir, String url, Path passwordFile, Optional<String> known) {
        Path hba = dir.resolve("pg_hba.conf");
        try {
            boolean trusting = TRUST.matcher(Files.readString(hba)).find();
            if (known.isPresent() && !trusting) {
                return known.get();
            }
            // Keep a password that exists already: a crash after writing the file may have set it on the server too.
            String password = known.orElseGet(EmbeddedPostgresServer::newPassword);
            if (known.isEmpty()) {
                writeOwnerOnly(passwordFile, password);
            }
            try (Connection c = connect(url, password)) {
                char[] chars = password.toCharArray();
                try {
                    // Computed here: the server (and its log, should the statement fail) sees only the verifier.
                    c.unwrap(PGConnection.class).alterUserPassword(USER, chars, "scram-sha-256");
                } finally {
                    Arrays.fill(chars, '\0');
                }
                try (Statement s = c.createStatement()) {
                    // Also in postgresql.auto.conf, so the cluster keeps them if started by hand with pg_ctl.
                    for (var e : SERVER_CONFIG.entrySet()) {
                        s.execute("alter system set " + e.getKey() + " = '" + e.getValue() + "'");
                    }
                    writeAtomically(hba, HBA, Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
                    s.execute("select pg_reload_conf()");
                }
            }
            LOG.debugf(
                    "embedded PostgreSQL now requires a password (SCRAM-SHA-256, kept in %s); no trust entries remain",
                    passwordFile);
            return password;
        } catch (IOException e) {
            throw new UncheckedIOException("could not secure embedded PostgreSQL in " + dir + ": " + e.getMessage(), e);
        } catch (SQLException e) {
            throw new IllegalStateException(
                    "could not secure embedded PostgreSQL in " + dir + ": " + e.getMessage()
                            + (known.isEmpty()
                                    ? ""
                                    : " (is " + passwordFile + " the password this cluster was given?)"),
                    e);
        }
    }

    /** A cluster that already trusts nobody cannot be opened without its password: say so instead of timing out. */
    private static void requirePasswordIfLocked(Path dir, Path passwordFile, Optional<String> known) {
        Path hba = dir.resolve("pg_hba.conf");
        try {
            if (known.isEmpty()
                    && Files.isRegularFile(hba)
                    && !TRUST.matcher(Files.readString(hba)).find()) {
                throw new IllegalStateException("the embedded PostgreSQL in " + dir + " requires the password that was"
                        + " kept in " + passwordFile + ", which is missing: restore that file");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + hba + ": " + e.getMessage(), e);
        }
    }

    private static Connection connect(String url, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", USER);
        p.setProperty("password", password);
        return DriverManager.getConnection(url, p);
    }

    private static String newPassword() {
        byte[] b = new byte[24];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** The password in {@code file}, made owner-only if it was not. */
    static Optional<String> readPassword(Path file) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (!perms.equals(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE))) {
                LOG.warnf(
                        "%s was readable by others (%s); made it owner-only",
                        file, PosixFilePermissions.toString(perms));
                Files.setPosixFilePermissions(
                        file, EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
            }
            String p = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (p.isEmpty()) {
                throw new IllegalStateException(file + " is empty: restore the embedded database password");
            }
            return Optional.of(p);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes a file that only its owner can read, from its first byte on (created 600, then moved into place). */
    static void writeOwnerOnly(Path file, String content) throws IOException {
        writeAtomically(
                file, content + "\n", EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
    }

    private static void writeAtomically(Path file, String content, Set<PosixFilePermission> perms) throws IOException {
        Files.createDirectories(file.getParent());
        Path tmp = Files.createTempFile(
                file.getParent(), "." + file.getFileName(), ".tmp", PosixFilePermissions.asFileAttribute(perms));
        try {
            Files.writeString(tmp, content, StandardCharsets.UTF_8);
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static String tail(Path log) {
        try {
            if (!Files.isRegularFile(log)) {
                return "";
            }
            List<String> lines = Files.readAllLines(log);
            return "; last lines of " + log + ":\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static void stopQuietly() {
        try {
            if (running != null) {
                running.close();
            }
        } catch (IOException | RuntimeException ignored) {
            // the JVM is exiting; pg_ctl has already been asked to stop
        }
    }

    /** Stops a postmaster left running for {@code dir} by a process that died (tests start from a clean slate). */
    public static void stopOrphan(Path dir) {
        livePostmaster(dir.toAbsolutePath().normalize()).ifPresent(pm -> {
            // SIGTERM is PostgreSQL's "smart" shutdown; it finishes once the dead process's clients are gone.
            pm.process().destroy();
            try {
                pm.process().onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                pm.process().destroyForcibly();
            }
        });
    }

    /** A running postmaster, as its {@code postmaster.pid} file names it (line 1 the pid, line 4 the port). */
    record Postmaster(ProcessHandle process, int port) {}

    static Optional<Postmaster> livePostmaster(Path dir) {
        Path pidFile = dir.resolve("postmaster.pid");
        if (!Files.isRegularFile(pidFile)) {
            return Optional.empty();
        }
        try {
            List<String> lines = Files.readAllLines(pidFile);
            if (lines.size() < 4) {
                return Optional.empty();
            }
            long pid = Long.parseLong(lines.get(0).trim());
            int port = Integer.parseInt(lines.get(3).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(p -> new Postmaster(p, port));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static String url(int port) {
        return "jdbc:postgresql://" + HOST + ":" + port + "/postgres";
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
