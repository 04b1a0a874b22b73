package dev.keyhold.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Signs an approval statement with OpenSSH: {@code ssh-keygen -Y sign -n keyhold-approval -f KEY}, the statement on
 * standard input, the armored SSHSIG on standard output. KEY is a private key file, or a {@code .pub} file whose
 * private half the SSH agent at {@code SSH_AUTH_SOCK} holds (a hardware key, a key that never touches the disk).
 * The private key never passes through this program.
 */
final class SshSigner {

    static final String NAMESPACE = "keyhold-approval";

    private SshSigner() {}

    static String sign(byte[] statement, String keyFile, Map<String, String> env) {
        Path key = Path.of(
                keyFile.startsWith("~/")
                        ? env.getOrDefault("HOME", System.getProperty("user.home")) + keyFile.substring(1)
                        : keyFile);
        if (!Files.isRegularFile(key)) {
            throw CliException.usage("SSH key file " + key + " does not exist");
        }
        boolean agent = key.toString().endsWith(".pub");
        String sock = env.get("SSH_AUTH_SOCK");
        if (agent && (sock == null || sock.isBlank())) {
            throw CliException.usage(
                    key + " is a public key: signing with it needs the SSH agent, but SSH_AUTH_SOCK is not set");
        }
        ProcessBuilder pb = new ProcessBuilder(List.of(
                env.getOrDefault("KEYHOLD_SSH_KEYGEN", "ssh-keygen"),
                "-Y",
                "sign",
                "-n",
                NAMESPACE,
                "-f",
                key.toString()));
        if (sock != null) {
            pb.environment().put("SSH_AUTH_SOCK", sock);
        } else {
            pb.environment().remove("SSH_AUTH_SOCK");
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw CliException.usage(
                    "cannot run ssh-keygen (OpenSSH 8.1 or later is needed to sign approvals): " + e.getMessage());
        }
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        try (OutputStream in = p.getOutputStream()) {
            in.write(statement);
        } catch (IOException e) {
            // ssh-keygen stopped early; its exit status and stderr say why
        }
        try {
            if (!p.waitFor(3, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw CliException.refused("ssh-keygen did not finish signing within 3 minutes");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw CliException.refused("interrupted while signing");
        }
        String signature = new String(out.join(), StandardCharsets.UTF_8).strip();
        if (p.exitValue() != 0 || !signature.startsWith("-----BEGIN SSH SIGNATURE-----")) {
            String why = new String(err.join(), StandardCharsets.UTF_8)
                    .lines()
                    .filter(l -> !l.isBlank() && !l.startsWith("Signing data on standard input"))
                    .reduce((a, b) -> b)
                    .orElse("exit status " + p.exitValue());
            throw CliException.refused("ssh-keygen could not sign with " + key + ": " + why.strip());
        }
        return signature + "\n";
    }

    private static byte[] readAll(InputStream s) {
        try (s) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            s.transferTo(b);
            return b.toByteArray();
        } catch (IOException e) {
            return new byte[0];
        }
    }
}
