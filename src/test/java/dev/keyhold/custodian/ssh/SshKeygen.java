package dev.keyhold.custodian.ssh;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the real {@code ssh-keygen} (openssh-client; the build's ensure script installs it). Tests call
 * {@link #require()} first: it skips the test, with a clear message, only when ssh-keygen is absent.
 */
final class SshKeygen {

    record Result(int exit, String out, String err) {
        Result ok() {
            if (exit != 0) {
                throw new AssertionError("ssh-keygen exited " + exit + ": " + err + out);
            }
            return this;
        }
    }

    private static final String PATH = find();

    private SshKeygen() {}

    private static String find() {
        for (String dir : List.of("/usr/bin", "/usr/local/bin", "/bin")) {
            if (new File(dir, "ssh-keygen").canExecute()) {
                return dir + "/ssh-keygen";
            }
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (new File(dir, "ssh-keygen").canExecute()) {
                    return new File(dir, "ssh-keygen").getPath();
                }
            }
        }
        return null;
    }

    static void require() {
        Assumptions.assumeTrue(
                PATH != null,
                "ssh-keygen is not installed (apt-get install openssh-client): SSH interop tests skipped");
    }

    static Result run(byte[] stdin, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(PATH);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Process p = pb.start();
        if (stdin != null) {
            p.getOutputStream().write(stdin);
        }
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("ssh-keygen did not finish");
        }
        return new Result(
                p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    /** Generates a key with ssh-keygen; returns the private key path ({@code .pub} next to it). */
    static Path generate(Path dir, String name, String... typeArgs) throws IOException, InterruptedException {
        Path key = dir.resolve(name);
        List<String> args = new ArrayList<>(List.of("-q", "-N", "", "-C", name + "@test", "-f", key.toString()));
        args.addAll(List.of(typeArgs));
        run(null, args.toArray(String[]::new)).ok();
        return key;
    }

    /** {@code ssh-keygen -Y sign}: returns the armored signature. */
    static String sign(Path key, String namespace, byte[] message, String... extra)
            throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(key.getParent(), "sig");
        Path msg = dir.resolve("msg");
        Files.write(msg, message);
        List<String> args = new ArrayList<>(List.of("-Y", "sign", "-f", key.toString(), "-n", namespace));
        args.addAll(List.of(extra));
        args.add(msg.toString());
        run(null, args.toArray(String[]::new)).ok();
        return Files.readString(dir.resolve("msg.sig"));
    }

    /** {@code ssh-keygen -Y verify} against an allowed_signers file naming {@code publicKeyLine} for "alice". */
    static Result verify(Path dir, String publicKeyLine, String namespace, byte[] message, String armored)
            throws IOException, InterruptedException {
        Path d = Files.createTempDirectory(dir, "verify");
        Path allowed = d.resolve("allowed_signers");
        Files.writeString(allowed, "alice " + publicKeyLine + "\n");
        Path sig = d.resolve("msg.sig");
        Files.writeString(sig, armored);
        return run(
                message,
                "-Y",
                "verify",
                "-f",
                allowed.toString(),
                "-I",
                "alice",
                "-n",
                namespace,
                "-s",
                sig.toString());
    }

    /** {@code ssh-keygen -l -E sha256 -f pub}: the fingerprint field. */
    static String fingerprint(Path dir, String publicKeyLine) throws IOException, InterruptedException {
        Path pub = Files.createTempFile(dir, "key", ".pub");
        Files.writeString(pub, publicKeyLine + "\n");
        String out = run(null, "-l", "-E", "sha256", "-f", pub.toString()).ok().out();
        return out.split(" ")[1];
    }

    static void writePrivate(Path file, String content) throws IOException {
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }
}
