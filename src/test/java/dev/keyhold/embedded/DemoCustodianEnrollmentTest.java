package dev.keyhold.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.custodian.Credentials;
import dev.keyhold.custodian.ssh.OpenSshKeyFiles;
import dev.keyhold.custodian.ssh.SshPublicKey;
import dev.keyhold.custodian.ssh.SshSig;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.CustodianKeys;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Embedded mode's demo custodian keys: OpenSSH files that ssh-keygen uses, owner-only, enrolled through the real
 * enrollment path once; and bin/keyhold-approve, which approves from a terminal with real ssh-keygen.
 */
@QuarkusTest
class DemoCustodianEnrollmentTest {

    @Inject
    DemoCustodianEnrollment enrollment;

    @Inject
    Credentials credentials;

    @Inject
    Sql sql;

    @Test
    void keysAreMadeOnceOwnerOnlyReadableBySshKeygenAndEnrolled() throws Exception {
        Path data = Files.createTempDirectory(Path.of("target"), "demo-keys");
        String a = "demo-" + UUID.randomUUID().toString().substring(0, 8);
        String b = a + "-b";
        // a start interrupted after writing b's files, before enrolling it: the next start enrolls the same key
        DemoCustodianKeys.DemoKey early = DemoCustodianKeys.ensure(data, b);

        assertThat(enrollment.enroll(data, List.of(a, b))).containsExactly(a, b);
        for (String name : List.of(a, b)) {
            Path key = data.resolve("custodian-keys").resolve(name);
            Path pub = data.resolve("custodian-keys").resolve(name + ".pub");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key)))
                    .isEqualTo("rw-------");
            assertThat(Files.readString(key)).startsWith("-----BEGIN OPENSSH PRIVATE KEY-----");
            String line = Files.readString(pub).strip();
            assertThat(line).startsWith("ssh-ed25519 ").endsWith(" " + name);
            // ssh-keygen itself reads the private key file and derives the same public key
            assertThat(run("ssh-keygen", "-y", "-f", key.toString()).strip())
                    .startsWith(SshPublicKey.parse(line).canonical());
            String canonical = SshPublicKey.parse(line).canonical();
            assertThat(credentials.sealed(name))
                    .extracting(Credentials.Credential::publicKey)
                    .containsExactly(canonical);
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("custodian-keys"))))
                .isEqualTo("rwx------");
        assertThat(Files.readString(data.resolve("custodian-keys/" + b + ".pub"))
                        .strip())
                .isEqualTo(early.publicKeyLine());

        // a signature made by ssh-keygen with the file verifies under the enrolled key
        Path msg = data.resolve("msg");
        Files.writeString(msg, "{\"type\":\"keyhold.approval.v1\"}");
        run(
                "ssh-keygen",
                "-q",
                "-Y",
                "sign",
                "-n",
                "keyhold-approval",
                "-f",
                data.resolve("custodian-keys/" + a).toString(),
                msg.toString());
        SshSig.verify(
                SshPublicKey.parse(Files.readString(data.resolve("custodian-keys/" + a + ".pub"))),
                "keyhold-approval",
                Files.readAllBytes(msg),
                Files.readString(Path.of(msg + ".sig")));

        // the next start changes nothing
        String before = Files.readString(data.resolve("custodian-keys/" + a));
        assertThat(enrollment.enroll(data, List.of(a, b))).isEmpty();
        assertThat(Files.readString(data.resolve("custodian-keys/" + a))).isEqualTo(before);
        assertThat(credentials.sealed(a)).hasSize(1);
    }

    @Test
    void theDemoCustodiansAreTheEmbeddedCustodians() {
        assertThat(DemoCustodianEnrollment.demoCustodians()).containsExactly("alice", "bob", "carol");
    }

    @Test
    void twoCustodiansApproveFromATerminalWithKeyholdApprove() throws Exception {
        String id = Api.createIssuer("term");
        String kid = Api.rotate(id);
        String request = sql.one("select id from activation_request where kid = ? and state = 'OPEN'", kid)
                .toString();
        Path dir = Files.createTempDirectory(Path.of("target"), "approve");
        Path alice = keyFile(dir, "alice");
        Path bob = keyFile(dir, "bob");

        // a key that is not alice's credential: refused, nothing recorded
        Result wrong = approve("alice", bob, request, "-m", "wrong key");
        assertThat(wrong.exit()).as(wrong.output()).isEqualTo(4);
        assertThat(sql.count("select count(*) from activation_decision where request_id = ?::uuid", request))
                .isZero();

        Result first = approve("alice", alice, request, "-m", "kid checked \"twice\"\tok");
        assertThat(first.exit()).as(first.output()).isZero();
        Result second = approve("bob", bob, request);
        assertThat(second.exit()).as(second.output()).isZero();
        assertThat(sql.one("select state from activation_request where id = ?::uuid", request))
                .isEqualTo("APPROVED");
        assertThat(sql.one(
                        "select comment from activation_decision where request_id = ?::uuid and custodian = 'alice'",
                        request))
                .isEqualTo("kid checked \"twice\"\tok");

        // usage errors and an unknown request
        assertThat(script(List.of()).exit()).isEqualTo(1);
        assertThat(approve("alice", alice, UUID.randomUUID().toString()).exit()).isEqualTo(2);
    }

    private static Path keyFile(Path dir, String principal) throws Exception {
        Path f = dir.resolve(principal);
        Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(f, OpenSshKeyFiles.privateKeyFile(CustodianKeys.of(principal), principal));
        return f;
    }

    private record Result(int exit, String output) {}

    private static Result approve(String user, Path key, String request, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                "-u",
                "http://localhost:" + RestAssured.port,
                "-U",
                user + ":" + Api.PASSWORD,
                "-k",
                key.toString(),
                "-y"));
        args.addAll(List.of(more));
        args.add(request);
        return script(args);
    }

    private static Result script(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(
                List.of("bash", Path.of("bin/keyhold-approve").toAbsolutePath().toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("KEYHOLD_"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out);
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
