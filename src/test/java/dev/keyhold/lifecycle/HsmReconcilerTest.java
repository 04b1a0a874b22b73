package dev.keyhold.lifecycle;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.domain.Deadlines;
import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.EmbeddedHsm;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.hsm.SunPkcs11Hsm;
import dev.keyhold.key.KeyHandles;
import dev.keyhold.store.KeyEntity;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.TestHsm;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** SPEC invariant 6: HSM objects and key rows stay reconciled, including across real process crashes. */
@QuarkusTest
class HsmReconcilerTest {

    static final Duration GRACE = Duration.ofMinutes(10);

    @Inject
    HsmReconciler reconciler;

    @Inject
    Sweeper sweeper;

    @Inject
    HsmPort hsm;

    @Inject
    Lifecycle lifecycle;

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @AfterEach
    void reset() {
        clock.reset();
    }

    @Test
    void anObjectWithoutARowIsDestroyedOnceTheGraceHasPassedWithAnAuditRecord() {
        String id = Api.createIssuer("orph");
        String handle = KeyHandles.next(id);
        String foreign = "not-keyhold-" + handle;
        hsm.generate("default", handle, SigningAlgorithm.ES256);
        hsm.generate("default", foreign, SigningAlgorithm.ES256);
        try {
            clock.freezeAt(clock.instant());
            HsmReconciler.Report first = reconciler.reconcileOnce();
            assertThat(first.orphansWaiting()).contains("default/" + handle).doesNotContain("default/" + foreign);
            clock.advance(GRACE.minusSeconds(1));
            assertThat(reconciler.reconcileOnce().orphansDestroyed()).doesNotContain("default/" + handle);
            assertThat(hsm.list("default")).contains(handle);
            clock.advance(Duration.ofSeconds(1));
            assertThat(reconciler.reconcileOnce().orphansDestroyed()).contains("default/" + handle);
            assertThat(hsm.list("default")).doesNotContain(handle).contains(foreign);
            assertThat(sql.count(
                            "select count(*) from audit_record where action = 'hsm.orphan-destroyed' and issuer_id = ?"
                                    + " and details like ?",
                            id,
                            "%" + handle + "%"))
                    .isEqualTo(1);
            assertThat(sql.count("select count(*) from hsm_orphan where hsm_handle = ?", handle))
                    .isZero();
            // the foreign object is never tracked, however long it stays
            clock.advance(GRACE.multipliedBy(10));
            reconciler.reconcileOnce();
            assertThat(hsm.list("default")).contains(foreign);
        } finally {
            hsm.destroy("default", foreign);
        }
    }

    @Test
    void theAuditPartitionIsNeverReconciled() {
        String handle = KeyHandles.next("audit-probe");
        hsm.generate("audit", handle, SigningAlgorithm.ES256);
        try {
            clock.freezeAt(clock.instant());
            reconciler.reconcileOnce();
            clock.advance(GRACE.multipliedBy(2));
            HsmReconciler.Report r = reconciler.reconcileOnce();
            assertThat(r.orphansDestroyed()).noneMatch(s -> s.startsWith("audit/"));
            assertThat(hsm.list("audit")).contains(handle);
        } finally {
            hsm.destroy("audit", handle);
        }
    }

    @Test
    void anObjectWhoseRowAppearsWithinTheGraceIsKept() {
        // a rotation in flight: generated, not yet committed when the reconciler looks
        String id = Api.createIssuer("infl");
        clock.freezeAt(clock.instant());
        String kid = Api.rotate(id);
        String handle = (String) sql.one("select hsm_handle from signing_key where kid = ?", kid);
        String stolen = "tmp-" + kid.substring(0, 8);
        sql.exec(
                "update signing_key set hsm_handle = ? where kid = ?", stolen, kid); // hide the row from the reconciler
        assertThat(reconciler.reconcileOnce().orphansWaiting()).contains("default/" + handle);
        sql.exec(
                "update signing_key set hsm_handle = ?, hsm_missing_at = null where kid = ?", handle, kid); // committed
        clock.advance(GRACE.plusMinutes(1));
        HsmReconciler.Report r = reconciler.reconcileOnce();
        assertThat(r.orphansDestroyed()).doesNotContain("default/" + handle);
        assertThat(hsm.list("default")).contains(handle);
        assertThat(sql.count("select count(*) from hsm_orphan where hsm_handle = ?", handle))
                .isZero();
    }

    @Test
    void aRowWhoseObjectIsMissingIsReportedOnceNeverSignsAndGetsASuccessor() {
        String id = Api.createIssuer("miss");
        String kid = lifecycle.activeKey(id);
        String handle = (String) sql.one("select hsm_handle from signing_key where kid = ?", kid);
        hsm.destroy("default", handle); // lost behind Keyhold's back
        HsmReconciler.Report r = reconciler.reconcileOnce();
        assertThat(r.newlyMissing()).contains(kid);
        assertThat(ofIssuer(id, r.newlyMissing())).containsExactly(kid);
        assertThat(r.missing()).containsEntry(kid, "default/" + handle);
        assertThat(sql.one("select hsm_missing_at from signing_key where kid = ?", kid))
                .isNotNull();
        assertThat(reconciler.reconcileOnce().newlyMissing()).doesNotContain(kid);
        assertThat(sql.count(
                        "select count(*) from outbox_event where subject = ? and type = 'keyhold.key.hsm-missing'",
                        kid))
                .isEqualTo(1);
        var key = QuarkusTransaction.requiringNew()
                .call(() -> KeyEntity.findByKid(kid).orElseThrow().toKey());
        assertThat(Deadlines.canSign(key, clock.instant())).isFalse();
        as("ops")
                .get("/q/health/group/lifecycle")
                .then()
                .statusCode(200)
                .body(
                        "checks.find { it.name == 'lifecycle' }.data.'missing." + kid + "'",
                        org.hamcrest.Matchers.equalTo("default/" + handle));
        assertThat(as("ops").get("/q/metrics").then().extract().asString()).contains("keyhold_hsm_missing_keys");
        // the issuer cannot sign with it: the sweeper prepares a successor at once instead of waiting for prepareAt
        assertThat(sweeper.sweep(List.of(id)).steps()).isEqualTo(Map.of(StepKind.PREPARE, 1));
    }

    @Test
    void crashBetweenHsmGenerationAndCommitLeavesAnOrphanThatIsDestroyedAfterTheGrace() throws Exception {
        String id = Api.createIssuer("crashgen");
        String handle = KeyHandles.next(id);
        runCrashChild("generate", handle, id);
        assertThat(sql.count("select count(*) from signing_key where hsm_handle = ?", handle))
                .as("rolled back")
                .isZero();
        assertThat(hsm.list("default"))
                .as("the child's object is visible to this process")
                .contains(handle);
        clock.freezeAt(clock.instant());
        assertThat(reconciler.reconcileOnce().orphansWaiting()).contains("default/" + handle);
        clock.advance(GRACE);
        assertThat(reconciler.reconcileOnce().orphansDestroyed()).contains("default/" + handle);
        assertThat(hsm.list("default")).doesNotContain(handle);
        assertThat(sql.count(
                        "select count(*) from audit_record where action = 'hsm.orphan-destroyed' and issuer_id = ?",
                        id))
                .isEqualTo(1);
        // the issuer is unharmed: its next rotation works
        assertThat(sweeper.sweep(List.of(id)).steps()).isEqualTo(Map.of(StepKind.PREPARE, 1));
    }

    @Test
    void crashBetweenTheRetirementCommitAndThePrivateKeyDeletionIsFinishedByTheReconciler() throws Exception {
        String id = Api.createIssuer("crashret");
        String kid = lifecycle.activeKey(id);
        String handle = (String) sql.one("select hsm_handle from signing_key where kid = ?", kid);
        runCrashChild("retire", handle, kid);
        assertThat(sql.one("select state from signing_key where kid = ?", kid))
                .as("committed")
                .isEqualTo("RETIRED");
        assertThat(TestHsm.hasPrivateKey("default", handle))
                .as("the child died before deleting it")
                .isTrue();

        HsmReconciler.Report r = reconciler.reconcileOnce();
        // other test classes in the same JVM share the database and tokens, and some retire keys by SQL (bypassing
        // the after-commit deletion): the reconciler finishes those too, so the exact list is scoped to this issuer
        assertThat(r.privateKeysDestroyed()).contains(kid);
        assertThat(ofIssuer(id, r.privateKeysDestroyed())).containsExactly(kid);
        assertThat(r.newlyMissing()).doesNotContain(kid);
        assertThat(r.missing()).doesNotContainKey(kid);
        assertThat(TestHsm.hasPrivateKey("default", handle)).isFalse();
        assertThat(TestHsm.hasCertificate("default", handle))
                .as("the public key stays")
                .isTrue();
        assertThat(hsm.publicKey("default", handle)).isNotNull();
        assertThat(sql.count(
                        "select count(*) from audit_record where action = 'hsm.private-key-destroyed' and kid = ?",
                        kid))
                .isEqualTo(1);
        as("ops")
                .get("/q/health/group/lifecycle")
                .then()
                .statusCode(200)
                .body(
                        "checks.find { it.name == 'lifecycle' }.data.hsmDeletionsFinishedLastReconcile",
                        org.hamcrest.Matchers.equalTo(r.privateKeysDestroyed().size()
                                + r.remainsDestroyed().size()));
        // once is enough: the next run finds nothing to do and nothing missing
        HsmReconciler.Report again = reconciler.reconcileOnce();
        assertThat(again.privateKeysDestroyed()).doesNotContain(kid);
        assertThat(again.missing()).doesNotContainKey(kid);
    }

    @Test
    void crashBetweenTheDestroyCommitAndTheHsmDeletionIsFinishedByTheReconciler() throws Exception {
        String id = Api.createIssuer("crashdel");
        String first = lifecycle.activeKey(id);
        lifecycle.activeKey(id);
        String handle = (String) sql.one("select hsm_handle from signing_key where kid = ?", first);
        assertThat(TestHsm.hasPrivateKey("default", handle))
                .as("retired: private key gone")
                .isFalse();
        assertThat(hsm.list("default")).contains(handle);

        runCrashChild("destroy", handle, first);
        assertThat(sql.one("select state from signing_key where kid = ?", first))
                .isEqualTo("DESTROYED");
        assertThat(hsm.list("default"))
                .as("the child died before removing the remains")
                .contains(handle);

        HsmReconciler.Report r = reconciler.reconcileOnce();
        assertThat(r.remainsDestroyed()).contains(first);
        assertThat(ofIssuer(id, r.remainsDestroyed())).containsExactly(first);
        assertThat(r.orphansWaiting()).doesNotContain("default/" + handle);
        assertThat(hsm.list("default")).doesNotContain(handle);
        assertThat(TestHsm.tokenObjects("default", "cert")).doesNotContain(handle);
        assertThat(sql.count(
                        "select count(*) from audit_record where action = 'hsm.remains-destroyed' and kid = ?", first))
                .isEqualTo(1);
        assertThat(ofIssuer(id, reconciler.reconcileOnce().remainsDestroyed())).isEmpty();
    }

    @Test
    void theSweepersDestroyStepRemovesTheRemainsAfterItsCommit() {
        Map<String, Object> body = Api.issuerBody(Api.uniqueId("sweepdel"));
        body.put("destroyGrace", "PT1H");
        String id = Api.createIssuer(body);
        String first = lifecycle.activeKey(id);
        lifecycle.activeKey(id);
        String handle = (String) sql.one("select hsm_handle from signing_key where kid = ?", first);
        Instant verifyUntil =
                ((Timestamp) sql.one("select verify_until from signing_key where kid = ?", first)).toInstant();
        clock.freezeAt(verifyUntil);
        assertThat(sweeper.sweep(List.of(id)).steps()).isEqualTo(Map.of(StepKind.UNPUBLISH, 1));
        clock.freezeAt(verifyUntil.plus(Duration.ofHours(1)));
        assertThat(sweeper.sweep(List.of(id)).steps()).isEqualTo(Map.of(StepKind.DESTROY, 1));
        assertThat(sql.one("select state from signing_key where kid = ?", first))
                .isEqualTo("DESTROYED");
        assertThat(hsm.list("default")).doesNotContain(handle);
        assertThat(TestHsm.tokenObjects("default", "cert")).doesNotContain(handle);
        HsmReconciler.Report after = reconciler.reconcileOnce();
        assertThat(after.missing()).doesNotContainKey(first);
        assertThat(after.remainsDestroyed()).doesNotContain(first);
    }

    /** Runs {@link CrashChild} in its own JVM against this JVM's tokens and database and waits for it to halt. */
    private void runCrashChild(String mode, String handle, String arg) throws IOException, InterruptedException {
        Config c = ConfigProvider.getConfig();
        String prefix = "keyhold.hsm.partitions.default.";
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                SunPkcs11Hsm.REQUIRED_JVM_OPTION,
                "-cp",
                System.getProperty("java.class.path"),
                CrashChild.class.getName(),
                mode,
                "default",
                handle,
                arg));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("SOFTHSM2_CONF", EmbeddedHsm.configFile().orElseThrow().toString());
        env.put("KH_LIBRARY", c.getValue(prefix + "library", String.class));
        env.put("KH_SLOT", c.getValue(prefix + "slot", String.class));
        env.put("KH_PIN", c.getValue(prefix + "pin", String.class));
        env.put("KH_JDBC_URL", c.getValue("quarkus.datasource.jdbc.url", String.class));
        env.put(
                "KH_JDBC_USER",
                c.getOptionalValue("quarkus.datasource.username", String.class).orElse(""));
        env.put(
                "KH_JDBC_PASSWORD",
                c.getOptionalValue("quarkus.datasource.password", String.class).orElse(""));
        Process p = pb.start();
        boolean done = p.waitFor(60, TimeUnit.SECONDS);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!done) {
            p.destroyForcibly();
        }
        assertThat(done).as("child finished: " + out).isTrue();
        assertThat(p.exitValue()).as(out).isEqualTo(1);
        assertThat(out).contains(mode.equals("generate") ? CrashChild.HALTING : CrashChild.COMMITTED);
    }

    /** The kids of {@code kids} that belong to the issuer {@code id} (the suite shares one database across classes). */
    private List<String> ofIssuer(String id, List<String> kids) {
        return kids.stream()
                .filter(k -> sql.count("select count(*) from signing_key where kid = ? and issuer_id = ?", k, id) > 0)
                .toList();
    }
}
