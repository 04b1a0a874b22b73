package dev.keyhold.activation;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Tokens.claims;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.keyhold.custodian.ssh.OpenSshKeyFiles;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.CustodianKeys;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two custodians approve from a terminal with the real OpenSSH tool: fetch the statement, {@code ssh-keygen -Y sign
 * -n keyhold-approval -f <key> statement.json}, post the signature; the key goes live and signs.
 */
@QuarkusTest
class SshKeygenApprovalTest {

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @AfterEach
    void reset() {
        clock.reset();
    }

    @Test
    void twoCustodiansApproveWithSshKeygen(@TempDir Path dir) throws Exception {
        String id = Api.createIssuer("ssh-keygen");
        String kid = Api.rotate(id);
        String request = (String) sql.one("select id::text from activation_request where kid = ?", kid);
        approve(dir, "alice", request).then().statusCode(200).body("state", equalTo("OPEN"));
        clock.advance(Duration.ofHours(2).plusSeconds(1));
        approve(dir, "bob", request).then().statusCode(200).body("state", equalTo("EXECUTED"));
        Api.sign("signer", id, Map.of("claims", claims(id)))
                .then()
                .statusCode(200)
                .body("kid", equalTo(kid));
    }

    private io.restassured.response.Response approve(Path dir, String custodian, String request) throws Exception {
        Path key = dir.resolve(custodian);
        Files.writeString(key, OpenSshKeyFiles.privateKeyFile(CustodianKeys.of(custodian), custodian));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Path statement = dir.resolve(custodian + "-statement.json");
        Files.write(
                statement,
                as(custodian)
                        .get("/v1/activations/" + request + "/statement")
                        .then()
                        .statusCode(200)
                        .extract()
                        .asByteArray());
        Process p = new ProcessBuilder(
                        "ssh-keygen",
                        "-Y",
                        "sign",
                        "-n",
                        "keyhold-approval",
                        "-f",
                        key.toString(),
                        statement.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        String sig = Files.readString(Path.of(statement + ".sig"));
        return as(custodian)
                .body(Map.of("decision", "approve", "signature", Map.of("format", "sshsig", "value", sig)))
                .post("/v1/activations/" + request + "/decisions");
    }
}
