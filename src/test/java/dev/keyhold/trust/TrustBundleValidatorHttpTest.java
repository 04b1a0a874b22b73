package dev.keyhold.trust;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Tokens.claims;
import static dev.keyhold.trust.TrustBundleApiTest.current;
import static dev.keyhold.trust.TrustBundleApiTest.sequence;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.jwk.JWKSet;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.Tokens;
import dev.keyhold.validator.KeyholdValidator;
import dev.keyhold.validator.TrustBundleStatus;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The relying-party library given the pinned trust anchor, against this real Keyhold over HTTP: it verifies the
 * issuer's signed bundles instead of reading the bare JWKS, follows a trust key rotation by the dual-signed takeover
 * bundle, and refuses an expired bundle with its reason (the other refusals are the library's unit tests, on fixtures).
 */
@QuarkusTest
class TrustBundleValidatorHttpTest {

    @Inject
    Lifecycle lifecycle;

    @Inject
    MutableClock clock;

    @Inject
    Sql sql;

    @TestHTTPResource("/")
    URL base;

    @BeforeEach
    void governingIssuer() {
        if (sql.count("select count(*) from issuer where id = ?", TrustKeyRotationTest.GOVERNING) == 0) {
            Api.createIssuer(Api.issuerBody(TrustKeyRotationTest.GOVERNING));
        }
    }

    @AfterEach
    void resetClock() {
        clock.reset();
    }

    @Test
    void theLibraryVerifiesBundlesAndFollowsATrustKeyRotation() throws Exception {
        String id = Api.createIssuer("tb-lib");
        String kid = lifecycle.activeKey(id);
        String token = Tokens.sign(id, claims(id));
        JWKSet pinned = JWKSet.parse(given().get("/v1/trust-anchor").asString());
        String oldTrustKid = pinned.getKeys().get(0).getKeyID();
        try (KeyholdValidator v = KeyholdValidator.builder(URI.create(base.toString()))
                .trust(id, Set.of("api://" + id))
                .trustAnchor(pinned)
                .clock(clock)
                .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
                .build()) {
            assertThat(v.validate(token).valid()).isTrue();
            TrustBundleStatus s = v.trustBundleStatus(id);
            assertThat(s.sequence()).isEqualTo(sequence(current(id)));
            assertThat(s.lastRefusal()).isNull();

            // Trust key rotation: proposed, approved M-of-N, the takeover bundle moves the library to the new key.
            String request = TrustKeyRotationTest.propose("admin");
            TrustKeyRotationTest.decide("bob", request).then().statusCode(200);
            clock.advance(Duration.ofSeconds(1));
            TrustKeyRotationTest.decide("carol", request).then().statusCode(200);
            String newTrustKid = (String) sql.one("select kid from trust_key where state = 'CURRENT'");
            assertThat(newTrustKid).isNotEqualTo(oldTrustKid);
            assertThat(v.refresh(id)).isTrue();
            assertThat(v.trustBundleStatus(id).anchorKids()).containsExactly(newTrustKid);
            assertThat(v.validate(token).valid()).isTrue();

            // Later bundles, by the new key alone, keep being accepted: a revocation reaches the library through one.
            as("alice")
                    .body(Map.of("reason", "stolen"))
                    .post("/v1/keys/" + kid + "/revoke")
                    .then()
                    .statusCode(200);
            long revokedAt = sequence(current(id));
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> v.trustBundleStatus(id).sequence() == revokedAt);
            assertThat(v.trustBundleStatus(id).lastRefusal()).isNull();
            assertThat(v.validate(token).reason()).isEqualTo("key_not_usable");
        }
    }

    @Test
    void anExpiredBundleIsRefusedWithItsReasonAndTheIssuerFailsClosed() throws Exception {
        String id = Api.createIssuer("tb-frozen");
        lifecycle.activeKey(id);
        String token = Tokens.sign(id, claims(id));
        JWKSet pinned = JWKSet.parse(given().get("/v1/trust-anchor").asString());
        try (KeyholdValidator v = KeyholdValidator.builder(URI.create(base.toString()))
                .trust(id, Set.of("api://" + id))
                .trustAnchor(pinned)
                .clock(clock)
                .build()) {
            assertThat(v.validate(token).valid()).isTrue();
            // Keyhold stops re-signing (its timer is off in tests) and the clock passes every bundle's exp: a freeze.
            clock.advance(Duration.ofHours(25));
            assertThat(v.refresh(id)).isFalse();
            assertThat(v.trustBundleStatus(id).lastRefusal()).isEqualTo(TrustBundleStatus.EXPIRED);
            assertThat(v.validate(token).reason()).isEqualTo("stale");
        }
    }
}
