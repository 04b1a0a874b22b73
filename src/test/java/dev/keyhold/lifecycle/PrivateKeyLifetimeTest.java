package dev.keyhold.lifecycle;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.HsmObjectMissingException;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.hsm.PublicJwks;
import dev.keyhold.signing.SigningCache;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.TestHsm;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * SPEC invariant 9: a key's private object exists in the HSM only while the key is PENDING or ACTIVE. Every check of
 * the token goes through a second PKCS#11 client in its own process ({@link TestHsm#tokenObjects}), not Keyhold's
 * adapter.
 */
@QuarkusTest
class PrivateKeyLifetimeTest {

    @Inject
    HsmPort hsm;

    @Inject
    HsmReconciler reconciler;

    @Inject
    Lifecycle lifecycle;

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @Inject
    SigningCache signingCache;

    @Inject
    dev.keyhold.activation.ActivationService activations;

    @AfterEach
    void reset() {
        clock.reset();
    }

    @Test
    void retirementAndRevocationDestroyThePrivateKeyAndKeepThePublicKey() {
        String id = Api.createIssuer("inv9");
        String first = lifecycle.activeKey(id);
        String h1 = handle(first);
        assertThat(TestHsm.hasPrivateKey("default", h1))
                .as("ACTIVE: private key present")
                .isTrue();

        // activation of the successor retires the first key
        String second = lifecycle.activeKey(id);
        String h2 = handle(second);
        assertThat(sql.one("select state from signing_key where kid = ?", first))
                .isEqualTo("RETIRED");
        assertThat(TestHsm.hasPrivateKey("default", h1))
                .as("RETIRED: private key gone from the token")
                .isFalse();
        assertThat(TestHsm.hasCertificate("default", h1))
                .as("RETIRED: public object kept")
                .isTrue();
        assertThat(thumbprint(hsm.publicKey("default", h1)))
                .as("public key still readable")
                .isEqualTo(first);
        assertThat(Api.anonymous()
                        .get("/issuers/" + id + "/.well-known/jwks.json")
                        .then()
                        .statusCode(200)
                        .extract()
                        .asString())
                .contains(first);
        assertThatThrownBy(() -> hsm.sign("default", h1, SigningAlgorithm.ES256, "x".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(HsmObjectMissingException.class);
        assertThat(hsm.listPrivate("default")).doesNotContain(h1).contains(h2);

        // revocation of the ACTIVE key
        as("alice")
                .body("{\"reason\":\"invariant 9 test\"}")
                .post("/v1/keys/" + second + "/revoke")
                .then()
                .statusCode(200);
        assertThat(TestHsm.hasPrivateKey("default", h2))
                .as("REVOKED: private key gone from the token")
                .isFalse();
        assertThat(TestHsm.hasCertificate("default", h2)).isTrue();
        assertThat(thumbprint(hsm.publicKey("default", h2))).isEqualTo(second);

        // the reconciler sees nothing wrong: a retired or revoked key without its private object is expected
        HsmReconciler.Report r = reconciler.reconcileOnce();
        assertThat(r.missing()).doesNotContainKeys(first, second);
        assertThat(r.privateKeysDestroyed()).doesNotContain(first, second);
    }

    @Test
    void aPendingKeyLosesItsPrivateKeyWhenRevoked() {
        String id = Api.createIssuer("inv9p");
        String pending = Api.rotate(id);
        String h = handle(pending);
        assertThat(TestHsm.hasPrivateKey("default", h)).isTrue();
        as("alice")
                .body("{\"reason\":\"not wanted\"}")
                .post("/v1/keys/" + pending + "/revoke")
                .then()
                .statusCode(200);
        assertThat(TestHsm.hasPrivateKey("default", h)).isFalse();
        assertThat(TestHsm.hasCertificate("default", h)).isTrue();
    }

    @Test
    void aRetiredOrRevokedKeySetActiveByADatabaseWriteCannotSignAndRaisesTheAlarm() {
        String id = Api.createIssuer("inv9db");
        String retired = lifecycle.activeKey(id);
        String revoked = lifecycle.activeKey(id);
        as("alice")
                .body("{\"reason\":\"x\"}")
                .post("/v1/keys/" + revoked + "/revoke")
                .then()
                .statusCode(200);
        assertThat(sql.one("select state from signing_key where kid = ?", retired))
                .isEqualTo("RETIRED");

        for (String kid : new String[] {retired, revoked}) {
            String previous = (String) sql.one("select state from signing_key where kid = ?", kid);
            // the attack: a database write puts the key back into service
            sql.exec(
                    "update signing_key set state = 'ACTIVE', not_after = ? where kid = ?",
                    java.sql.Timestamp.from(clock.instant().plusSeconds(86_400)),
                    kid);
            signingCache.invalidate(id); // as after a restart, or any other reload of the snapshot

            Response refused = Api.sign("signer", id, Map.of("claims", Map.of("sub", "x", "aud", "api://" + id)));
            assertThat(refused.statusCode()).as(refused.asString()).isEqualTo(409);
            assertThat(refused.asString()).doesNotContain("\"token\"").contains("key-material-missing");

            // the alarm: the refused signature has the key checked at once, and it is marked missing
            awaitMissing(kid);
            HsmReconciler.Report r = reconciler.reconcileOnce();
            assertThat(r.missing()).containsKey(kid);
            assertThat(r.privateKeysDestroyed()).doesNotContain(kid);
            assertThat(sql.count(
                            "select count(*) from outbox_event where subject = ? and type = 'keyhold.key.hsm-missing'",
                            kid))
                    .isEqualTo(1);
            signingCache.invalidate(id);
            Response still = Api.sign("signer", id, Map.of("claims", Map.of("sub", "x", "aud", "api://" + id)));
            assertThat(still.statusCode()).isEqualTo(409);
            assertThat(still.asString()).doesNotContain("\"token\"");

            // put the row back
            sql.exec("update signing_key set state = ?, hsm_missing_at = null where kid = ?", previous, kid);
            signingCache.invalidate(id);
        }
    }

    @Test
    void anActiveKeyWhosePrivateObjectAloneIsGoneIsReportedMissing() {
        // the public object survives, so a listing of handles alone would not notice: the reconciler must look at
        // the private objects of keys that can sign
        String id = Api.createIssuer("inv9a");
        String kid = lifecycle.activeKey(id);
        String h = handle(kid);
        assertThat(hsm.destroyPrivate("default", h)).isTrue();
        assertThat(hsm.destroyPrivate("default", h)).as("idempotent").isFalse();
        assertThat(hsm.list("default")).contains(h);
        HsmReconciler.Report r = reconciler.reconcileOnce();
        assertThat(r.newlyMissing()).contains(kid);
        assertThat(sql.one("select hsm_missing_at from signing_key where kid = ?", kid))
                .isNotNull();
    }

    @Test
    void aPendingKeyWhosePrivateObjectIsGoneIsNotActivatedAndItsPredecessorKeepsSigning() {
        String id = Api.createIssuer("inv9act");
        String first = lifecycle.activeKey(id);
        String next = Api.rotate(id);
        java.util.UUID request =
                (java.util.UUID) sql.one("select id from activation_request where kid = ? and state = 'OPEN'", next);
        lifecycle.approve(request.toString());
        assertThat(hsm.destroyPrivate("default", handle(next))).isTrue(); // lost behind Keyhold's back
        assertThat(hsm.publicKey("default", handle(next)))
                .as("its public object is still there")
                .isNotNull();
        clock.advance(java.time.Duration.ofHours(3)); // past publishLead
        assertThatThrownBy(() -> activations.activateIfDue(request, "test"))
                .isInstanceOf(HsmObjectMissingException.class);
        assertThat(sql.one("select state from signing_key where kid = ?", next)).isEqualTo("PENDING");
        assertThat(sql.one("select state from signing_key where kid = ?", first))
                .isEqualTo("ACTIVE");
        assertThat(TestHsm.hasPrivateKey("default", handle(first))).isTrue();
        Api.sign("signer", id, Map.of("claims", Map.of("sub", "x", "aud", "api://" + id)))
                .then()
                .statusCode(200);
    }

    /** Waits for the asynchronous check that a refused signature started (not for application time to pass). */
    private void awaitMissing(String kid) {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
        while (sql.one("select hsm_missing_at from signing_key where kid = ?", kid) == null) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("key " + kid + " was not marked missing after the refused signature");
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private String handle(String kid) {
        return (String) sql.one("select hsm_handle from signing_key where kid = ?", kid);
    }

    private static String thumbprint(PublicKey pub) {
        return PublicJwks.of(pub, SigningAlgorithm.ES256).getKeyID();
    }
}
