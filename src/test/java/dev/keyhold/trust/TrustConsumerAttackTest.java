package dev.keyhold.trust;

import static dev.keyhold.trust.TrustBundleApiTest.anchor;
import static dev.keyhold.trust.TrustBundleApiTest.current;
import static dev.keyhold.trust.TrustBundleConsumer.Reason;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.JWK;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.MutableClock;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Bundles fed to a verifying consumer by an attacker: each refused, with its reason. */
@QuarkusTest
class TrustConsumerAttackTest {

    @Inject
    MutableClock clock;

    @AfterEach
    void resetClock() {
        clock.reset();
    }

    @Test
    void aLowerSequenceIsARollbackAttack() throws Exception {
        String id = Api.createIssuer("tc-low");
        String first = current(id);
        Api.rotate(id);
        String second = current(id);
        TrustBundleConsumer c = new TrustBundleConsumer(anchor(), id, clock);
        assertThat(c.accept(second)).isEqualTo(Reason.ACCEPTED);
        assertThat(c.accept(first)).isEqualTo(Reason.LOWER_SEQUENCE);
        assertThat(c.accept(given().get("/issuers/" + id + "/trust-bundles/1").asString()))
                .isEqualTo(Reason.LOWER_SEQUENCE);
        assertThat(c.accept(second)).isEqualTo(Reason.ACCEPTED);
    }

    @Test
    void aBadSignatureOrATamperedPayloadIsRefused() throws Exception {
        String id = Api.createIssuer("tc-sig");
        String jws = current(id);
        String[] parts = jws.split("\\.");
        TrustBundleConsumer c = new TrustBundleConsumer(anchor(), id, clock);
        byte[] sig = Base64.getUrlDecoder().decode(parts[2]);
        sig[5] ^= 1;
        String badSig = parts[0] + "." + parts[1] + "."
                + Base64.getUrlEncoder().withoutPadding().encodeToString(sig);
        assertThat(c.accept(badSig)).isEqualTo(Reason.BAD_SIGNATURE);
        String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                .replace("\"keys\":[]", "\"keys\":[{\"kty\":\"EC\",\"kid\":\"evil\"}]");
        String tampered = parts[0] + "."
                + Base64.getUrlEncoder().withoutPadding().encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + "."
                + parts[2];
        assertThat(c.accept(tampered)).isEqualTo(Reason.BAD_SIGNATURE);
        // Signed by a key the validator did not pin.
        TrustBundleConsumer pinnedElsewhere = new TrustBundleConsumer(List.<JWK>of(), id, clock);
        assertThat(pinnedElsewhere.accept(jws)).isEqualTo(Reason.UNKNOWN_KEY);
        assertThat(c.accept("not.a-jws")).isEqualTo(Reason.MALFORMED);
        assertThat(c.accept(jws)).isEqualTo(Reason.ACCEPTED);
    }

    @Test
    void anotherIssuersBundleIsRefused() throws Exception {
        String mine = Api.createIssuer("tc-mine");
        String theirs = Api.createIssuer("tc-theirs");
        TrustBundleConsumer c = new TrustBundleConsumer(anchor(), mine, clock);
        assertThat(c.accept(current(theirs))).isEqualTo(Reason.WRONG_ISSUER);
        assertThat(c.accept(current(mine))).isEqualTo(Reason.ACCEPTED);
    }

    @Test
    void anExpiredBundleIsAFreezeAttack() throws Exception {
        String id = Api.createIssuer("tc-exp");
        String jws = current(id);
        clock.advance(Duration.ofHours(24));
        assertThat(new TrustBundleConsumer(anchor(), id, clock).accept(jws)).isEqualTo(Reason.EXPIRED);
    }
}
