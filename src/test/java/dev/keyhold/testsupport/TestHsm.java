package dev.keyhold.testsupport;

import dev.keyhold.hsm.EmbeddedHsm;
import dev.keyhold.hsm.SunPkcs11Hsm.PartitionSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The one SoftHSM2 fixture of the test JVM. SoftHSM2 reads its configuration once per process, so every test
 * (plain and {@code @QuarkusTest}) must share this directory and this partition list; temporary directories
 * per test class cannot work.
 */
public final class TestHsm {

    public static final Path DATA_DIR = Path.of("target/keyhold-test");
    public static final List<String> PARTITIONS = List.of("default", "east", "audit", "trust");

    private static Map<String, String> config;

    private TestHsm() {}

    /** Held until the JVM exits (never released, so never collected); see {@link #lockAgainstOtherJvms()}. */
    private static FileChannel lockChannel;

    /** {@code keyhold.hsm.partitions.<p>.library|slot|pin} for the three test partitions. */
    public static synchronized Map<String, String> config() {
        if (config == null) {
            lockAgainstOtherJvms();
            // Fresh tokens per test run, but only while nothing in this JVM uses them yet: wiping a token
            // directory under a loaded SoftHSM2 would leave it pointing at deleted files. Leave pg/ alone.
            if (!EmbeddedHsm.initialised()) {
                deleteRecursively(DATA_DIR.resolve("hsm"));
            }
            config = Map.copyOf(EmbeddedHsm.prepare(DATA_DIR, PARTITIONS));
        }
        return config;
    }

    /** The same configuration as settings for the plain (non-CDI) {@code SunPkcs11Hsm} constructor. */
    public static Map<String, PartitionSettings> partitionSettings() {
        Map<String, PartitionSettings> m = new LinkedHashMap<>();
        for (String p : PARTITIONS) {
            m.put(p, settings(p));
        }
        return m;
    }

    public static PartitionSettings settings(String partition) {
        Map<String, String> c = config();
        String prefix = "keyhold.hsm.partitions." + partition + ".";
        return new PartitionSettings(
                c.get(prefix + "library"), Integer.valueOf(c.get(prefix + "slot")), null, c.get(prefix + "pin"));
    }

    /**
     * A SunPKCS11 provider of its own on a test partition's token: a second, independent client of the token, used
     * by tests that check what Keyhold's adapter wrote (and that the JDK's PKCS11 KeyStore can read it). Not
     * logged in; registered nowhere.
     */
    public static java.security.Provider sunPkcs11Provider(String partition, String name) {
        return sunPkcs11Provider(partition, name, "");
    }

    /** The same, with more SunPKCS11 configuration lines (such as an attributes stanza) appended. */
    public static java.security.Provider sunPkcs11Provider(String partition, String name, String moreConfig) {
        PartitionSettings s = settings(partition);
        String config = "name = " + name + "\nlibrary = " + s.library() + "\nslot = " + s.slot() + "\n" + moreConfig;
        return java.security.Security.getProvider("SunPKCS11").configure("--" + config);
    }

    /** The SoftHSM2 config file, for child processes such as pkcs11-tool. */
    public static Path softhsmConf() {
        config();
        return DATA_DIR.toAbsolutePath().normalize().resolve("hsm/softhsm2.conf");
    }

    /**
     * Two test JVMs on one working tree (two people, or an IDE and Maven) would wipe each other's tokens: SoftHSM2
     * then answers the first JVM with CKR_SLOT_ID_INVALID. An exclusive lock on a file beside the tokens, kept
     * for the JVM's life, makes the second run wait for the first instead.
     */
    private static void lockAgainstOtherJvms() {
        if (lockChannel != null) {
            return;
        }
        try {
            Files.createDirectories(DATA_DIR);
            FileChannel channel =
                    FileChannel.open(DATA_DIR.resolve("hsm.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(15);
            boolean told = false;
            while (!lockedByThisJvm(channel)) {
                if (System.nanoTime() > deadline) {
                    channel.close();
                    throw new IllegalStateException("another test JVM has held " + DATA_DIR + " for 15 minutes");
                }
                if (!told) {
                    System.err.println("Waiting for another test JVM that uses " + DATA_DIR.toAbsolutePath());
                    told = true;
                }
                Thread.sleep(500);
            }
            lockChannel = channel;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + DATA_DIR, e);
        }
    }

    /**
     * Quarkus tests load this class again in their own class loader, so another copy of it may already hold the
     * lock for this JVM; the JVM then reports the overlap instead of granting the lock twice.
     */
    private static boolean lockedByThisJvm(FileChannel channel) throws IOException {
        try {
            return channel.tryLock() != null;
        } catch (OverlappingFileLockException heldByAnotherCopy) {
            return true;
        }
    }

    /** Deletes a directory tree; nothing if it is absent. */
    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The SoftHSM2 token directory of a partition: SoftHSM2 names it by a UUID whose last 16 hex digits are the
     * token's serial number, and {@code softhsm2-util --show-slots} gives the serial of each slot.
     */
    public static Path tokenDirectory(String partition) throws IOException, InterruptedException {
        long slot = settings(partition).slot();
        ProcessBuilder pb = new ProcessBuilder("softhsm2-util", "--show-slots").redirectErrorStream(true);
        pb.environment().put("SOFTHSM2_CONF", softhsmConf().toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        Matcher m = Pattern.compile("Slot " + slot + "\\s.*?Serial number:\\s+([0-9a-f]+)", Pattern.DOTALL)
                .matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("softhsm2-util shows no slot " + slot + ": " + out);
        }
        String serial = m.group(1);
        Path tokens = DATA_DIR.resolve("hsm/tokens");
        try (var dirs = Files.list(tokens)) {
            return dirs.filter(d -> d.getFileName().toString().replace("-", "").endsWith(serial))
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("no token directory for serial " + serial));
        }
    }

    /**
     * The handles (CKA_ID as UTF-8) of the token objects of one type ({@code privkey}, {@code pubkey}, {@code cert}) in a
     * test partition, as OpenSC's pkcs11-tool lists them after logging in: the token itself, read by a second PKCS#11
     * client in its own process, not Keyhold's adapter.
     */
    public static java.util.Set<String> tokenObjects(String partition, String type) {
        PartitionSettings s = settings(partition);
        try {
            ProcessBuilder pb = new ProcessBuilder(
                            "pkcs11-tool",
                            "--module",
                            s.library(),
                            "--slot",
                            String.valueOf(s.slot()),
                            "--login",
                            "--pin",
                            s.pin(),
                            "--list-objects",
                            "--type",
                            type)
                    .redirectErrorStream(true);
            pb.environment().put("SOFTHSM2_CONF", softhsmConf().toString());
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("pkcs11-tool failed: " + out);
            }
            java.util.Set<String> ids = new java.util.TreeSet<>();
            Matcher m = Pattern.compile("(?m)^\\s+ID:\\s+([0-9a-fA-F]+)\\s*$").matcher(out);
            while (m.find()) {
                ids.add(new String(java.util.HexFormat.of().parseHex(m.group(1)), StandardCharsets.UTF_8));
            }
            return ids;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** True when the token holds a private key object with CKA_ID = {@code handle} (see {@link #tokenObjects}). */
    public static boolean hasPrivateKey(String partition, String handle) {
        return tokenObjects(partition, "privkey").contains(handle);
    }

    /** True when the token holds a certificate object with CKA_ID = {@code handle} (see {@link #tokenObjects}). */
    public static boolean hasCertificate(String partition, String handle) {
        return tokenObjects(partition, "cert").contains(handle);
    }
}
