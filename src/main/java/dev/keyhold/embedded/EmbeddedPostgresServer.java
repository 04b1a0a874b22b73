package dev.keyhold.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A real PostgreSQL for embedded mode, its data kept in a directory of ours so it survives restarts.
 * The binaries come from a Maven artifact, so nothing needs installing.
 */
public final class EmbeddedPostgresServer {

    private static EmbeddedPostgres running;
    private static Path runningDir;
    private static String runningUrl;

    private EmbeddedPostgresServer() {
    }

    /** Starts (or finds already running) the server for {@code dataDir}; returns its JDBC URL. */
    public static synchronized String start(Path dataDir) {
        Path dir = dataDir.toAbsolutePath().normalize();
        if (runningUrl != null) {
            if (!dir.equals(runningDir)) {
                throw new IllegalStateException("embedded PostgreSQL already runs for " + runningDir);
            }
            return runningUrl;
        }
        // A process killed without shutdown hooks (a crash, or a crash test's halt) leaves its postmaster
        // running; reusing it beats refusing to start over a lock file.
        Optional<Postmaster> orphan = livePostmaster(dir);
        if (orphan.isPresent()) {
            runningDir = dir;
            runningUrl = url(orphan.get().port());
            // Adopted: it is ours now, so it stops when we do, as a server we started would.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> stopOrphan(dir), "embedded-pg-stop"));
            return runningUrl;
        }
        try {
            Files.createDirectories(dir);
            EmbeddedPostgres pg = EmbeddedPostgres.builder()
                    .setDataDirectory(dir)
                    .setCleanDataDirectory(false)
                    .setPort(freePort())
                    .start();
            running = pg;
            runningDir = dir;
            runningUrl = url(pg.getPort());
            Runtime.getRuntime().addShutdownHook(new Thread(EmbeddedPostgresServer::stopQuietly, "embedded-pg-stop"));
            return runningUrl;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start embedded PostgreSQL in " + dir + ": " + e.getMessage(), e);
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
    record Postmaster(ProcessHandle process, int port) {
    }

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
        return "jdbc:postgresql://localhost:" + port + "/postgres";
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
