package dev.keyhold.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.TestHsm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * In-process recovery of the PKCS#11 library, on the real SoftHSM2 of the test JVM, without Quarkus:
 * a token that vanished and came back is usable again after a re-initialisation, re-initialisation is spaced by
 * backoff on the given clock, and a library that cannot be initialised again reports itself broken (liveness) until
 * it can.
 */
class HsmRecoveryTest {

    private final MutableClock clock = new MutableClock();
    private final SunPkcs11Hsm hsm = new SunPkcs11Hsm(
            TestHsm.partitionSettings(),
            clock,
            new SunPkcs11Hsm.Recovery(Duration.ofSeconds(10), Duration.ofSeconds(40), 2),
            null);

    @Test
    void aTokenThatComesBackIsUsedAgainAfterReinitialisation() throws Exception {
        String handle = "kh-recovery-" + System.nanoTime();
        hsm.generate("east", handle, SigningAlgorithm.ES256);
        byte[] data = "payload".getBytes();
        assertThat(hsm.sign("east", handle, SigningAlgorithm.ES256, data)).hasSize(64);
        long before = reinitialisations();

        Path token = tokenDirectory("east");
        // Outside the token directory: SoftHSM2 takes every directory in it for a token, whatever its name.
        Path away = token.getParent().resolveSibling(token.getFileName() + ".away");
        Files.move(token, away);
        try {
            // Gone: unavailable, never "no such key" (the token answers object searches with nothing).
            assertThatThrownBy(() -> hsm.sign("east", handle, SigningAlgorithm.ES256, data))
                    .isInstanceOf(HsmUnavailableException.class);
            assertThatThrownBy(() -> hsm.list("east")).isInstanceOf(HsmUnavailableException.class);
            assertThat(reinitialisations()).isEqualTo(before + 1);
            // Within the backoff, no further re-initialisation.
            assertThatThrownBy(() -> hsm.check("east")).isInstanceOf(HsmUnavailableException.class);
            assertThat(reinitialisations()).isEqualTo(before + 1);
            // Other partitions on the same library keep working after it.
            hsm.check("default");
        } finally {
            Files.move(away, token);
        }
        // Back, but the library has not read it again yet, and the backoff has not passed.
        assertThatThrownBy(() -> hsm.sign("east", handle, SigningAlgorithm.ES256, data))
                .isInstanceOf(HsmUnavailableException.class);
        clock.advance(Duration.ofSeconds(41));
        assertThat(hsm.sign("east", handle, SigningAlgorithm.ES256, data)).hasSize(64);
        assertThat(reinitialisations()).isEqualTo(before + 2);
        assertThat(hsm.list("east")).contains(handle);
        hsm.destroy("east", handle);
    }

    @Test
    void aLibraryThatCannotBeInitialisedAgainIsReportedBrokenUntilItCan() throws Exception {
        Path conf = TestHsm.softhsmConf();
        Path confAway = conf.resolveSibling("softhsm2.conf.away");
        Path token = tokenDirectory("east");
        // Outside the token directory: SoftHSM2 takes every directory in it for a token, whatever its name.
        Path away = token.getParent().resolveSibling(token.getFileName() + ".away");
        Files.move(token, away);
        // Without its configuration file SoftHSM2's C_Initialize fails (CKR_GENERAL_ERROR).
        Files.move(conf, confAway);
        try {
            assertThatThrownBy(() -> hsm.check("east")).isInstanceOf(HsmUnavailableException.class);
            assertThat(library().failedInARow()).isEqualTo(1);
            assertThat(library().broken()).isFalse();
            clock.advance(Duration.ofSeconds(41));
            assertThatThrownBy(() -> hsm.check("default")).isInstanceOf(HsmUnavailableException.class);
            assertThat(library().failedInARow()).isEqualTo(2);
            assertThat(library().broken()).isTrue();
            assertThat(library().lastFailure()).isEqualTo("CKR_GENERAL_ERROR");
        } finally {
            Files.move(confAway, conf);
            Files.move(away, token);
        }
        clock.advance(Duration.ofSeconds(41));
        hsm.check("east");
        hsm.check("default");
        assertThat(library().broken()).isFalse();
        assertThat(library().failedInARow()).isZero();
    }

    /**
     * The native library is shared by every SunPKCS11 instance of this JVM: whatever a test did to it, leave it
     * initialised, or the HSM tests that run after this class find it finalised.
     */
    @AfterEach
    void leaveTheLibraryInitialised() {
        clock.advance(Duration.ofMinutes(5));
        for (String partition : TestHsm.PARTITIONS) {
            try {
                hsm.check(partition);
            } catch (RuntimeException stillDown) {
                // reported by the test itself; nothing more can be done here
            }
        }
    }

    private HsmPort.LibraryStatus library() {
        List<HsmPort.LibraryStatus> all = hsm.libraries();
        assertThat(all).hasSize(1);
        assertThat(all.get(0).partitions()).containsExactlyInAnyOrderElementsOf(TestHsm.PARTITIONS);
        return all.get(0);
    }

    private long reinitialisations() {
        return library().reinitialisations();
    }

    private static Path tokenDirectory(String partition) throws Exception {
        return TestHsm.tokenDirectory(partition);
    }
}
