package dev.keyhold.audit;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Sql;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SPEC invariant 8: edits, deletions, reorderings and truncations of stored audit records, made with plain SQL, are
 * each detected by {@code GET /v1/audit/verify}; so is a consistent rewrite of the tail, through the signed
 * checkpoints. Each tamper is undone (and verification passes again) before the test ends: the table is shared.
 */
@QuarkusTest
class AuditVerifyTest {

    @Inject
    AgroalDataSource ds;

    @Inject
    Sql sql;

    @Inject
    HsmPort hsm;

    @Inject
    Checkpoints checkpoints;

    String issuer;

    @BeforeEach
    void someHistory() {
        issuer = Api.createIssuer("verify");
        Api.rotate(issuer);
    }

    static JsonPath verify() {
        return as("auditor")
                .get("/v1/audit/verify")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }

    static void assertIntact() {
        JsonPath v = verify();
        assertThat(v.getBoolean("ok")).as("verify: %s", v.prettify()).isTrue();
        assertThat((Object) v.get("firstBrokenSeq")).isNull();
    }

    static void assertBrokenAt(long seq, String reasonPart) {
        JsonPath v = verify();
        assertThat(v.getBoolean("ok")).as("verify: %s", v.prettify()).isFalse();
        assertThat(v.getLong("firstBrokenSeq")).as("verify: %s", v.prettify()).isEqualTo(seq);
        assertThat(v.getString("reason")).contains(reasonPart);
    }

    long seqOf(String action) {
        return sql.count("select max(seq) from audit_record where issuer_id = ? and action = ?", issuer, action);
    }

    @Test
    void anIntactChainVerifiesAndCountsEveryRecord() {
        JsonPath v = verify();
        assertThat(v.getBoolean("ok")).isTrue();
        assertThat(v.getLong("records")).isEqualTo(sql.count("select count(*) from audit_record"));
        assertThat(v.getLong("records")).isEqualTo(sql.count("select max(seq) from audit_record"));
    }

    @Test
    void anEditedFieldIsDetected() throws Exception {
        long k = seqOf("issuer.created");
        try (ChainTamper t = new ChainTamper(ds, k, k)) {
            assertIntact();
            t.exec("update audit_record set actor = 'mallory' where seq = ?", k);
            assertBrokenAt(k, "does not match its hash");
            t.restore();
            t.exec("update audit_record set details = '{\"issuerUri\":\"https://evil.example\"}' where seq = ?", k);
            assertBrokenAt(k, "does not match its hash");
            t.restore();
            t.exec("update audit_record set recorded_at = recorded_at + interval '1 microsecond' where seq = ?", k);
            assertBrokenAt(k, "does not match its hash");
            t.restore();
            assertIntact();
        }
        assertIntact();
    }

    @Test
    void aDeletedMiddleRecordIsDetected() throws Exception {
        long k = seqOf("issuer.created");
        try (ChainTamper t = new ChainTamper(ds, k, k + 1)) {
            t.exec("delete from audit_record where seq = ?", k);
            assertBrokenAt(k, "record " + k + " is missing");
            // renumbering the rest to close the gap breaks the hashes instead
            t.exec("update audit_record set seq = seq - 1 where seq = ?", k + 1);
            assertBrokenAt(k, "does not");
        }
        assertIntact();
    }

    @Test
    void reorderedRecordsAreDetected() throws Exception {
        long k = seqOf("issuer.created");
        try (ChainTamper t = new ChainTamper(ds, k, k + 1)) {
            // swap the contents of k and k+1, keeping their seq: what "moving a record earlier" looks like
            t.exec(
                    "update audit_record r set recorded_at = s.recorded_at, node = s.node, actor = s.actor, action = s.action,"
                            + " outcome = s.outcome, issuer_id = s.issuer_id, kid = s.kid, request_id = s.request_id,"
                            + " details = s.details, prev_hash = s.prev_hash, hash = s.hash"
                            + " from saved_audit s where (r.seq, s.seq) in ((?, ?), (?, ?))",
                    k,
                    k + 1,
                    k + 1,
                    k);
            assertThat(sql.one("select action from audit_record where seq = ?", k))
                    .isNotEqualTo("issuer.created");
            assertBrokenAt(k, "record " + k);
        }
        assertIntact();
    }

    @Test
    void aTailCutTogetherWithItsCheckpointsIsCaughtByTheHsmMirror() throws Exception {
        long signed = checkpoints.create("test").seq();
        long cut = seqOf("issuer.created");
        try (ChainTamper t = new ChainTamper(ds, cut, signed)) {
            assertThat(t.head()).isEqualTo(signed);
            // the database as it was before: the records and every checkpoint of them gone, the rest perfect
            t.exec("delete from audit_record where seq >= ?", cut);
            t.exec("delete from audit_checkpoint where seq >= ?", cut);
            assertBrokenAt(cut, "rolled back");
        }
        assertIntact();
    }

    @Test
    void aTruncatedTailIsDetectedThroughTheSignedCheckpoint() throws Exception {
        long signed = checkpoints.create("test").seq();
        long cut = seqOf("issuer.created");
        try (ChainTamper t = new ChainTamper(ds, cut, signed)) {
            assertThat(t.head()).isEqualTo(signed);
            // The remaining chain is internally perfect: only the checkpoint can tell.
            t.exec("delete from audit_record where seq >= ?", cut);
            assertBrokenAt(cut, "cut off");
            JsonPath v = verify();
            assertThat(v.getLong("records")).isEqualTo(cut - 1);
            // the latest checkpoint still vouched for lies before the cut
            if (v.get("checkpoint") != null) {
                assertThat(v.getLong("checkpoint.seq")).isLessThan(cut);
            }
            // deleting the checkpoint as well leaves its own audit record behind... unless that is cut too,
            // which is why auditors keep the latest checkpoint outside Keyhold (README).
        }
        assertIntact();
    }

    @Test
    void aConsistentRewriteOfTheTailIsCaughtByTheSignedCheckpoint() throws Exception {
        long signed = checkpoints.create("test").seq();
        long k = seqOf("issuer.created");
        try (ChainTamper t = new ChainTamper(ds, k, signed)) {
            List<AuditRow> rows = t.rows(k, signed);
            String prev = rows.get(0).prevHash();
            for (AuditRow r : rows) {
                String actor = r.seq() == k ? "mallory" : r.actor();
                String hash = AuditHash.compute(
                        r.seq(),
                        r.recordedAt(),
                        r.node(),
                        actor,
                        r.action(),
                        r.outcome(),
                        r.issuerId(),
                        r.kid(),
                        r.requestId(),
                        r.detailsJson(),
                        prev);
                t.exec(
                        "update audit_record set actor = ?, prev_hash = ?, hash = ? where seq = ?",
                        actor,
                        prev,
                        hash,
                        r.seq());
                prev = hash;
            }
            // hash chain alone would pass; the checkpoint over `signed` no longer matches
            assertBrokenAt(signed, "differs from signed checkpoint");
            // and re-pointing the checkpoint at the new hash breaks its signature
            t.exec("update audit_checkpoint set hash = ? where seq = ?", prev, signed);
            assertBrokenAt(signed, "valid audit key signature");
        }
        assertIntact();
    }

    @Test
    void aDeletedOrForgedCheckpointOrAReplacedAuditKeyIsDetected() throws Exception {
        long signed = checkpoints.create("test").seq();
        try (ChainTamper t = new ChainTamper(ds, signed, signed)) {
            t.exec("delete from audit_checkpoint where seq = ?", signed);
            assertBrokenAt(signed, "announces a checkpoint that is missing");
            t.restore();
            t.exec("update audit_checkpoint set signed_at = signed_at + interval '1 second' where seq = ?", signed);
            assertBrokenAt(signed, "valid audit key signature");
            t.restore();
            // An attacker with database access swaps in a public key of their own (to sign forged checkpoints):
            // the stored key no longer matches the HSM's.
            String forged =
                    new ECKeyGenerator(Curve.P_256).generate().toPublicJWK().toJSONString();
            t.exec("update audit_key set public_jwk = ?", forged);
            JsonPath v = verify();
            assertThat(v.getBoolean("ok")).isFalse();
            assertThat(v.getString("reason")).contains("is not the HSM's audit key");
            assertThat(v.getList("auditKeys.matchesHsm")).contains(false);
        }
        assertIntact();
    }

    @Test
    void checkpointsAreSignedByTheHsmAuditKeyAndRecordedInTheChain() {
        JsonPath c = as("auditor")
                .post("/v1/audit/checkpoints")
                .then()
                .statusCode(201)
                .extract()
                .jsonPath();
        long seq = c.getLong("seq");
        assertThat(sql.one("select action from audit_record where seq = ?", seq))
                .isEqualTo(Checkpoints.ACTION);
        assertThat(sql.one("select actor from audit_record where seq = ?", seq)).isEqualTo("auditor");
        assertThat(sql.one("select hash from audit_record where seq = ?", seq)).isEqualTo(c.getString("hash"));
        as("admin").post("/v1/audit/checkpoints").then().statusCode(201);
        as("alice").post("/v1/audit/checkpoints").then().statusCode(403);
        Api.anonymous().post("/v1/audit/checkpoints").then().statusCode(401);

        // the stored public key is the HSM's, and the signature is ES256 over the canonical payload
        String kid = c.getString("keyId");
        String jwk = (String) sql.one("select public_jwk from audit_key where kid = ?", kid);
        var stored = AuditKeys.publicKey(AuditKeys.parse(jwk));
        assertThat(Arrays.equals(hsm.publicKey("audit", "keyhold-audit-1").getEncoded(), stored.getEncoded()))
                .isTrue();
        Checkpoints.CheckpointView view = new Checkpoints.CheckpointView(
                seq,
                c.getString("hash"),
                java.time.Instant.parse(c.getString("time")),
                c.getString("node"),
                kid,
                c.getString("signature"));
        assertThat(AuditVerifier.signatureValid(view, stored)).isTrue();
        byte[] sig = Base64.getUrlDecoder().decode(c.getString("signature"));
        sig[5] ^= 1;
        assertThat(AuditVerifier.signatureValid(
                        new Checkpoints.CheckpointView(
                                seq,
                                view.hash(),
                                view.time(),
                                view.node(),
                                kid,
                                Base64.getUrlEncoder().withoutPadding().encodeToString(sig)),
                        stored))
                .isFalse();

        JsonPath v = verify();
        assertThat(v.getBoolean("ok")).isTrue();
        assertThat(v.getLong("checkpoint.seq")).isGreaterThanOrEqualTo(seq);
        assertThat(v.getList("auditKeys.matchesHsm")).containsOnly(true);
    }

    @Test
    void thePeriodicCheckpointSignsOnlyWhenTheHeadMoved() {
        Api.createIssuer("verify-periodic");
        assertThat(checkpoints.headMoved()).isTrue();
        long before = sql.count("select count(*) from audit_checkpoint");
        checkpoints.periodic();
        assertThat(sql.count("select count(*) from audit_checkpoint")).isEqualTo(before + 1);
        assertThat(checkpoints.headMoved()).isFalse();
        checkpoints.periodic();
        assertThat(sql.count("select count(*) from audit_checkpoint")).isEqualTo(before + 1);
    }

    @Test
    void onlyAuditorsVerify() {
        as("admin").get("/v1/audit/verify").then().statusCode(403);
        as("alice").get("/v1/audit/verify").then().statusCode(403);
        Api.anonymous().get("/v1/audit/verify").then().statusCode(401);
    }
}
