package dev.keyhold.hsm;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Development and test bootstrap of SoftHSM2: one token per partition under {@code <dataDir>/hsm}, PINs made on
 * first start and kept beside it, and the configuration that points {@link SunPkcs11Hsm} at them.
 *
 * <p><b>Once per JVM.</b> SoftHSM2 reads {@code SOFTHSM2_CONF} and scans its token directory once, in
 * {@code C_Initialize}, which runs when the JVM first loads the library. So the environment variable is set here
 * (in the process's own environment, through libc) before any provider exists, a second data directory in the
 * same JVM is refused, and <b>all partitions must be prepared before the first use of any of them</b>: a token
 * created after that exists on disk but stays invisible to this JVM until it restarts.
 *
 * <p>Not for production: the PINs sit on disk next to the tokens, readable by the owner only.
 */
public final class EmbeddedHsm {

    private static final Logger LOG = Logger.getLogger(EmbeddedHsm.class);

    static final String NOT_INSTALLED =
            "SoftHSM2 is not installed: run 'sudo apt-get install softhsm2' (Debian/Ubuntu)";

    private static final List<String> LIBRARY_CANDIDATES = List.of(
            "/usr/lib/softhsm/libsofthsm2.so",
            "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
            "/usr/local/lib/softhsm/libsofthsm2.so");

    private static final String PIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    private static final int PIN_LENGTH = 24;
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * Records the config file this JVM's SoftHSM2 reads, set once by the first {@link #prepare}. A system property
     * rather than a static field: SoftHSM2 is loaded once per process, but Quarkus tests load this class again in
     * their own class loader, and each copy must see what the first one did. Not under "keyhold.": Quarkus
     * rejects unknown system properties inside its mapped configuration prefixes.
     */
    private static final String CONF_PROPERTY = "dev.keyhold.hsm.softhsm2-conf";

    private EmbeddedHsm() {}

    /** libc's setenv(3): {@link System#getenv()} is a read-only copy, but SoftHSM2 reads the real environment. */
    private interface LibC extends Library {
        int setenv(String name, String value, int overwrite);
    }

    /**
     * Makes sure SoftHSM2 is configured for {@code dataDir} and holds a token for each partition.
     *
     * @return configuration properties {@code keyhold.hsm.partitions.<p>.library|slot|pin} for every partition
     * @throws IllegalStateException if SoftHSM2 is not installed, or this JVM already uses another directory
     */
    public static synchronized Map<String, String> prepare(Path dataDir, List<String> partitions) {
        String library = findLibrary().orElseThrow(() -> new IllegalStateException(NOT_INSTALLED));
        String util = findOnPath("softhsm2-util").orElseThrow(() -> new IllegalStateException(NOT_INSTALLED));

        Path hsmDir = dataDir.toAbsolutePath().normalize().resolve("hsm");
        Path conf = hsmDir.resolve("softhsm2.conf");
        Path initialisedConf = configFile().orElse(null);
        if (initialisedConf != null && !initialisedConf.equals(conf)) {
            throw new IllegalStateException("SoftHSM2 is already initialised in this JVM for another directory ("
                    + initialisedConf.getParent() + "); it reads its configuration only once per process");
        }
        try {
            Path tokenDir = hsmDir.resolve("tokens");
            createPrivateDirectories(tokenDir);
            writeConf(conf, tokenDir);
            boolean laterCall = initialisedConf != null;
            if (!laterCall) {
                setProcessEnv("SOFTHSM2_CONF", conf.toString());
                System.setProperty(CONF_PROPERTY, conf.toString());
            }

            Map<String, Long> slots = showSlots(util, conf);
            Map<String, String> props = new LinkedHashMap<>();
            for (String partition : partitions) {
                String label = label(partition);
                Path pinFile = hsmDir.resolve(partition + ".pin");
                if (!slots.containsKey(label)) {
                    String soPin = randomPin();
                    String pin = randomPin();
                    writeSecret(hsmDir.resolve(partition + ".so-pin"), soPin);
                    writeSecret(pinFile, pin);
                    // PINs on the command line are briefly visible to local users in the process list;
                    // acceptable for a development token whose PIN file sits beside it anyway.
                    run(conf, util, "--init-token", "--free", "--label", label, "--so-pin", soPin, "--pin", pin);
                    LOG.infof("Created SoftHSM2 token '%s' for HSM partition '%s'", label, partition);
                    if (laterCall) {
                        LOG.warnf(
                                "SoftHSM2 token '%s' was created after this JVM may already have loaded SoftHSM2;"
                                        + " if so it becomes visible only after a restart",
                                label);
                    }
                } else if (!Files.isRegularFile(pinFile)) {
                    throw new IllegalStateException("SoftHSM2 token '" + label + "' exists but its PIN file " + pinFile
                            + " is missing; delete " + hsmDir + " to start over");
                }
            }
            // Slot IDs change whenever a token is initialised: always read them afresh.
            slots = showSlots(util, conf);
            for (String partition : partitions) {
                Long slot = slots.get(label(partition));
                if (slot == null) {
                    throw new IllegalStateException(
                            "SoftHSM2 token '" + label(partition) + "' not found after initialisation");
                }
                if (slot > Integer.MAX_VALUE) {
                    throw new IllegalStateException("SoftHSM2 slot ID " + slot + " does not fit SunPKCS11's int");
                }
                String prefix = "keyhold.hsm.partitions." + partition + ".";
                props.put(prefix + "library", library);
                props.put(prefix + "slot", Long.toString(slot));
                props.put(
                        prefix + "pin",
                        Files.readString(hsmDir.resolve(partition + ".pin")).trim());
            }
            return props;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare SoftHSM2 under " + hsmDir, e);
        }
    }

    /** True once {@link #prepare} has pointed this JVM's SoftHSM2 at a directory. */
    public static boolean initialised() {
        return configFile().isPresent();
    }

    /** The SoftHSM2 config file this JVM uses, once {@link #prepare} has run; for child processes (pkcs11-tool). */
    public static Optional<Path> configFile() {
        return Optional.ofNullable(System.getProperty(CONF_PROPERTY)).map(Path::of);
    }

    public static Optional<String> findLibrary() {
        return LIBRARY_CANDIDATES.stream()
                .filter(p -> Files.isRegularFile(Path.of(p)))
                .findFirst();
    }

    static String label(String partition) {
        return "keyhold-" + partition;
    }

    /**
     * Parses {@code softhsm2-util --show-slots}: each "Slot N" header is followed by its token info, whose
     * "Label:" line names the token. Uninitialised slots have an empty label and are skipped.
     */
    static Map<String, Long> parseSlots(String output) {
        Map<String, Long> slots = new LinkedHashMap<>();
        Long current = null;
        for (String line : output.split("\\R")) {
            String t = line.strip();
            if (line.startsWith("Slot ")) {
                try {
                    current = Long.parseLong(t.substring("Slot ".length()).strip());
                } catch (NumberFormatException e) {
                    current = null;
                }
            } else if (t.startsWith("Label:") && current != null) {
                String label = t.substring("Label:".length()).strip();
                if (!label.isEmpty()) {
                    slots.putIfAbsent(label, current);
                }
            }
        }
        return slots;
    }

    private static Map<String, Long> showSlots(String util, Path conf) throws IOException {
        return parseSlots(run(conf, util, "--show-slots"));
    }

    private static String run(Path conf, String... command) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("SOFTHSM2_CONF", conf.toString());
        Process p = pb.start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(command[0] + " " + command[1] + " did not finish");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted while running " + command[0], e);
        }
        if (p.exitValue() != 0) {
            // Only the subcommand is named: the full command line carries PINs. softhsm2-util never echoes them.
            throw new IOException(
                    command[0] + " " + command[1] + " failed (exit " + p.exitValue() + "): " + out.strip());
        }
        return out;
    }

    private static void writeConf(Path conf, Path tokenDir) throws IOException {
        String text = """
                # Written by Keyhold's embedded mode; regenerated on every start.
                directories.tokendir = %s
                objectstore.backend = file
                log.level = ERROR
                """.formatted(tokenDir);
        Path tmp = conf.resolveSibling(conf.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, conf, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void createPrivateDirectories(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path hsm = dir.getParent();
        try {
            Files.setPosixFilePermissions(hsm, PosixFilePermissions.fromString("rwx------"));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException ignored) {
            // Not a POSIX file system (Windows); SoftHSM2 does not run there anyway.
        }
    }

    /** Created owner-only from the first byte, then moved into place, so the secret is never world-readable. */
    private static void writeSecret(Path file, String secret) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try (SeekableByteChannel ch = Files.newByteChannel(
                tmp,
                EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            ch.write(java.nio.ByteBuffer.wrap((secret + "\n").getBytes(StandardCharsets.US_ASCII)));
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static String randomPin() {
        StringBuilder b = new StringBuilder(PIN_LENGTH);
        for (int i = 0; i < PIN_LENGTH; i++) {
            b.append(PIN_ALPHABET.charAt(RANDOM.nextInt(PIN_ALPHABET.length())));
        }
        return b.toString();
    }

    private static void setProcessEnv(String name, String value) {
        LibC libc = Native.load("c", LibC.class);
        if (libc.setenv(name, value, 1) != 0) {
            throw new IllegalStateException("setenv(" + name + ") failed");
        }
    }

    private static Optional<String> findOnPath(String command) {
        String path = System.getenv("PATH");
        List<String> dirs = new ArrayList<>(path == null ? List.of() : List.of(path.split(java.io.File.pathSeparator)));
        // Daemons and IDE launchers often run with a trimmed PATH; these are where the packages install it.
        dirs.addAll(List.of("/usr/bin", "/usr/local/bin"));
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, command);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate.toString());
            }
        }
        return Optional.empty();
    }
}
