package dev.keyhold.trust;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.trust.TrustBundleApiTest.anchor;
import static dev.keyhold.trust.TrustBundleApiTest.current;
import static dev.keyhold.trust.TrustBundleApiTest.sequence;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.hasSize;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The trust key's HSM object goes missing (the trust key row is pointed at a handle the token does not hold, so the
 * real key survives for the other tests of this JVM): bundles stop being signed, changes, revocations and the JWKS
 * go on, health says so; once the key answers again the backlog is signed, revocations first.
 */
@QuarkusTest
class TrustKeyMissingTest {

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @Inject
    Lifecycle lifecycle;

    @Inject
    TrustBundleSigner signer;

    private String realHandle;

    @AfterEach
    void restore() {
        if (realHandle != null) {
            sql.exec("update trust_key set hsm_handle = ? where state = 'CURRENT'", realHandle);
            signer.signDue(Duration.ZERO);
        }
        clock.reset();
    }

    @Test
    void bundlesStopBeingSignedTheRestGoesOnAndHealthSaysSo() throws Exception {
        String quiet = Api.createIssuer("tk-quiet");
        String revoking = Api.createIssuer("tk-revoke");
        String active = lifecycle.activeKey(revoking);
        String pending = Api.rotate(revoking);
        long signedBefore = sequence(current(revoking));

        realHandle = (String) sql.one("select hsm_handle from trust_key where state = 'CURRENT'");
        sql.exec("update trust_key set hsm_handle = 'keyhold-trust-gone' where state = 'CURRENT'");

        // Changes still commit; the quiet issuer's change is staged first, the revocation second.
        Api.rotate(quiet);
        as("alice")
                .body(Map.of("reason", "compromised"))
                .post("/v1/keys/" + pending + "/revoke")
                .then()
                .statusCode(200);
        given().get("/issuers/" + revoking + "/.well-known/jwks.json")
                .then()
                .statusCode(200)
                .body("keys", hasSize(1))
                .body("keys[0].kid", org.hamcrest.Matchers.equalTo(active));
        // Nothing unsigned is served: the last signed bundle stays current.
        assertThat(sequence(current(revoking))).isEqualTo(signedBefore);
        assertThat(sql.count(
                        "select count(*) from trust_bundle where first_signed_at is null and issuer_id in (?, ?)",
                        quiet,
                        revoking))
                .isEqualTo(2);

        JsonPath health =
                given().get("/q/health/group/trust-bundles").then().extract().jsonPath();
        Map<String, Object> check = health.<Map<String, Object>>getList("checks").stream()
                .filter(c -> "trust-bundles".equals(c.get("name")))
                .findFirst()
                .orElseThrow();
        @SuppressWarnings("unchecked")
        Map<String, Object> data = (Map<String, Object>) check.get("data");
        assertThat(data).containsEntry("signing", "stopped");
        assertThat((String) data.get("reason")).contains("HSM object is missing");

        // The key answers again: the backlog is signed, the revocation's bundle ahead of the older quiet one.
        sql.exec("update trust_key set hsm_handle = ? where state = 'CURRENT'", realHandle);
        realHandle = null;
        assertThat(signer.signDue(Duration.ZERO)).isGreaterThanOrEqualTo(2);
        assertThat(sql.one(
                        "select issuer_id from trust_bundle_signature where issuer_id in (?, ?) order by id desc"
                                + " limit 1",
                        quiet,
                        revoking))
                .as("signed last")
                .isEqualTo(quiet);
        assertThat(sql.one(
                        "select issuer_id from trust_bundle_signature where issuer_id in (?, ?) order by id desc"
                                + " offset 1 limit 1",
                        quiet,
                        revoking))
                .as("signed first")
                .isEqualTo(revoking);
        TrustBundleConsumer c = new TrustBundleConsumer(anchor(), revoking, clock);
        assertThat(c.accept(current(revoking))).isEqualTo(TrustBundleConsumer.Reason.ACCEPTED);
        assertThat(sequence(current(revoking))).isEqualTo(signedBefore + 1);
    }
}
