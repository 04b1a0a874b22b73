package dev.keyhold.evidence;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import dev.keyhold.audit.AuditHash;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Tokens;
import dev.keyhold.tools.VerifyAudit;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The audit and ledger exports checked by the standalone verifier with no network and no database: intact exports
 * pass; one edited byte, a removed record, two swapped records and a checkpoint from another deployment are each
 * caught, with the position of what fails.
 */
@QuarkusTest
class OfflineVerifyTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    Lifecycle lifecycle;

    @Inject
    MutableClock clock;

    @AfterEach
    void reset() {
        clock.reset();
    }

    record Outcome(int status, String out) {}

    static Outcome verify(String json, String... options) throws Exception {
        Path f = Files.createTempFile(Path.of("target"), "export", ".json");
        Files.writeString(f, json);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        String[] args = new String[options.length + 1];
        System.arraycopy(options, 0, args, 0, options.length);
        args[options.length] = f.toString();
        int status = VerifyAudit.run(args, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return new Outcome(status, bytes.toString(StandardCharsets.UTF_8));
    }

    private String auditExport(Instant from) {
        return as("auditor")
                .queryParam("from", from.toString())
                .get("/v1/audit/export")
                .then()
                .statusCode(200)
                .extract()
                .asString();
    }

    private String auditKid() {
        return as("auditor")
                .get("/v1/audit/verify")
                .then()
                .statusCode(200)
                .extract()
                .path("auditKeys[0].kid");
    }

    @Test
    void anAuditExportIsVerifiedOfflineAndEachTamperingIsPinpointed() throws Exception {
        Instant from = clock.instant().minusSeconds(1);
        String id = Api.createIssuer("export");
        Api.rotate(id);
        as("alice")
                .body("{\"reason\":\"drill\"}")
                .post("/v1/issuers/" + id + "/suspend")
                .then()
                .statusCode(200);
        as("auditor").post("/v1/audit/checkpoints").then().statusCode(201);
        String pinned = auditKid();
        String json = auditExport(from);
        ObjectNode doc = (ObjectNode) JSON.readTree(json);
        ArrayNode records = (ArrayNode) doc.get("records");
        assertThat(records.size()).isGreaterThanOrEqualTo(4);
        assertThat(doc.get("checkpoints").size()).isGreaterThanOrEqualTo(1);

        Outcome ok = verify(json, "--key", pinned);
        assertThat(ok.status()).as(ok.out()).isZero();
        assertThat(ok.out()).contains("OK").contains("vouched for by a signed checkpoint");

        // one byte edited: the second record's actor
        long seq2 = records.get(1).get("seq").asLong();
        int at = json.indexOf("\"actor\":\"", json.indexOf("\"seq\":" + seq2 + ",")) + 9;
        char[] chars = json.toCharArray();
        chars[at] = chars[at] == 'x' ? 'y' : 'x';
        Outcome edited = verify(new String(chars), "--key", pinned);
        assertThat(edited.status()).as(edited.out()).isEqualTo(1);
        assertThat(edited.out()).contains("record #2 (seq " + seq2 + "): its contents do not match its hash");

        // a record removed
        ObjectNode removed = doc.deepCopy();
        ((ArrayNode) removed.get("records")).remove(1);
        Outcome gap = verify(removed.toString(), "--key", pinned);
        assertThat(gap.status()).isEqualTo(1);
        assertThat(gap.out())
                .contains("record #2 (seq " + (seq2 + 1) + "): expected seq " + seq2)
                .contains("missing before it");

        // two records swapped
        ObjectNode swapped = doc.deepCopy();
        ArrayNode rs = (ArrayNode) swapped.get("records");
        JsonNode second = rs.get(1);
        rs.set(1, rs.get(2));
        rs.set(2, second);
        Outcome order = verify(swapped.toString(), "--key", pinned);
        assertThat(order.status()).isEqualTo(1);
        assertThat(order.out())
                .contains("record #2 (seq " + (seq2 + 1) + "): expected seq " + seq2)
                .contains("record #3 (seq " + seq2 + "): expected seq " + (seq2 + 2) + ": out of order");

        // a checkpoint from another deployment (its own audit key), over a real record of this export
        ObjectNode foreign = doc.deepCopy();
        ArrayNode cps = (ArrayNode) foreign.get("checkpoints");
        JsonNode real = cps.get(0);
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair other = g.generateKeyPair();
        ECKey otherJwk = new ECKey.Builder(Curve.P_256, (ECPublicKey) other.getPublic())
                .keyIDFromThumbprint()
                .build();
        Instant time = Instant.parse(real.get("time").asText());
        Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
        s.initSign(other.getPrivate());
        s.update(AuditHash.checkpointBytes(
                real.get("seq").asLong(), real.get("hash").asText(), time, "elsewhere", otherJwk.getKeyID()));
        ObjectNode fake = JSON.createObjectNode()
                .put("seq", real.get("seq").asLong())
                .put("hash", real.get("hash").asText())
                .put("time", time.toString())
                .put("node", "elsewhere")
                .put("keyId", otherJwk.getKeyID())
                .put("signature", Base64.getUrlEncoder().withoutPadding().encodeToString(s.sign()));
        cps.set(0, fake);
        Outcome other1 = verify(foreign.toString(), "--key", pinned);
        assertThat(other1.status()).isEqualTo(1);
        assertThat(other1.out())
                .contains("checkpoint #1 (seq " + real.get("seq").asLong() + "): signed by key " + otherJwk.getKeyID()
                        + ", which is not a trusted audit key");
        // ... also when the forger adds their key to the export: the pinned thumbprint decides
        ((ArrayNode) foreign.get("auditKeys"))
                .add(JSON.readTree(otherJwk.toPublicJWK().toJSONString()));
        Outcome other2 = verify(foreign.toString(), "--key", pinned);
        assertThat(other2.status()).isEqualTo(1);
        assertThat(other2.out())
                .contains("checkpoint #1 (seq " + real.get("seq").asLong() + "): signed by key");
    }

    @Test
    void aLedgerExportIsVerifiedOfflineAndEachTamperingIsPinpointed() throws Exception {
        Instant from = clock.instant().minusSeconds(1);
        String id = Api.createIssuer("ledger-export");
        lifecycle.activeKey(id);
        for (int i = 0; i < 4; i++) {
            EvidenceTest.signViaResource(id, Tokens.claims(id));
        }
        as("auditor").post("/v1/evidence/ledger/checkpoints").then().statusCode(201);
        String pinned = auditKid();
        String json = as("auditor")
                .queryParam("from", from.toString())
                .get("/v1/evidence/ledger/export")
                .then()
                .statusCode(200)
                .extract()
                .asString();
        ObjectNode doc = (ObjectNode) JSON.readTree(json);
        ArrayNode batches = (ArrayNode) doc.get("batches");
        assertThat(batches.size()).isGreaterThanOrEqualTo(4);
        assertThat(json).as("no token in the export, only hashes").doesNotContain(".ey");

        Outcome ok = verify(json, "--key", pinned);
        assertThat(ok.status()).as(ok.out()).isZero();
        assertThat(ok.out()).contains("ledger export: " + batches.size() + " batches");

        long seq2 = batches.get(1).get("seq").asLong();
        ObjectNode edited = doc.deepCopy();
        ((ObjectNode) edited.get("batches").get(1).get("tokens").get(0)).put("sub", "someone-else");
        Outcome e = verify(edited.toString(), "--key", pinned);
        assertThat(e.status()).isEqualTo(1);
        assertThat(e.out()).contains("batch #2 (seq " + seq2 + "): its tokens do not match its digest");

        ObjectNode removed = doc.deepCopy();
        ((ArrayNode) removed.get("batches")).remove(1);
        Outcome gap = verify(removed.toString(), "--key", pinned);
        assertThat(gap.out()).contains("batch #2 (seq " + (seq2 + 1) + "): expected seq " + seq2);

        ObjectNode swapped = doc.deepCopy();
        ArrayNode bs = (ArrayNode) swapped.get("batches");
        JsonNode second = bs.get(1);
        bs.set(1, bs.get(2));
        bs.set(2, second);
        Outcome order = verify(swapped.toString(), "--key", pinned);
        assertThat(order.status()).isEqualTo(1);
        assertThat(order.out()).contains("batch #3 (seq " + seq2 + "): expected seq " + (seq2 + 2) + ": out of order");

        // an audit checkpoint cannot pass for a ledger one: the signed bytes name the chain
        String auditJson = auditExport(from);
        JsonNode auditCp = JSON.readTree(auditJson).get("checkpoints");
        if (auditCp != null && auditCp.size() > 0) {
            ObjectNode mixed = doc.deepCopy();
            ((ArrayNode) mixed.get("checkpoints")).set(0, auditCp.get(0));
            Outcome m = verify(mixed.toString(), "--key", pinned);
            assertThat(m.status()).isEqualTo(1);
            assertThat(m.out()).contains("checkpoint #1");
        }
    }
}
