package dev.keyhold.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.SunPkcs11Hsm.PartitionSettings;
import dev.keyhold.testsupport.TestHsm;
import java.nio.charset.StandardCharsets;
import java.security.AuthProvider;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link SunPkcs11Hsm} against real SoftHSM2 tokens; signatures are checked by the JDK's own providers. */
class SunPkcs11HsmTest {

    private static SunPkcs11Hsm hsm;

    @BeforeAll
    static void connect() {
        hsm = new SunPkcs11Hsm(TestHsm.partitionSettings());
    }

    private static String newHandle(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    static boolean verifies(PublicKey key, SigningAlgorithm alg, byte[] data, byte[] jwsSignature) throws Exception {
        // Default JDK providers only: the check must not go through the HSM that made the signature.
        Signature v = Signature.getInstance(alg.jcaSignatureName());
        assertThat(v.getProvider().getName()).doesNotStartWith("SunPKCS11");
        if (alg.signatureParams() != null) {
            v.setParameter(alg.signatureParams());
        }
        v.initVerify(key);
        v.update(data);
        return v.verify(alg.ecSignatureLength() > 0 ? EcdsaSignatures.joseToDer(jwsSignature) : jwsSignature);
    }

    @ParameterizedTest
    @EnumSource(SigningAlgorithm.class)
    void fullLifecycle(SigningAlgorithm alg) throws Exception {
        String handle = newHandle("life-" + alg);
        PublicKey generated = hsm.generate("default", handle, alg);
        assertThat(generated.getAlgorithm()).isEqualTo(alg.keyType());
        assertThat(hsm.publicKey("default", handle)).isEqualTo(generated);
        if (alg.ecSignatureLength() > 0) {
            assertThat(((ECPublicKey) generated).getParams().getOrder().bitLength())
                    .isEqualTo(alg.ecSignatureLength() * 4);
        } else {
            assertThat(((RSAPublicKey) generated).getModulus().bitLength()).isEqualTo(2048);
        }

        byte[] data = "header.payload".getBytes(StandardCharsets.US_ASCII);
        byte[] sig = hsm.sign("default", handle, alg, data);
        if (alg.ecSignatureLength() > 0) {
            assertThat(sig).hasSize(alg.ecSignatureLength());
        } else {
            assertThat(sig).hasSize(256);
        }
        assertThat(verifies(hsm.publicKey("default", handle), alg, data, sig)).isTrue();
        assertThat(verifies(generated, alg, "other".getBytes(StandardCharsets.US_ASCII), sig))
                .isFalse();

        assertThat(hsm.list("default")).contains(handle);
        hsm.destroy("default", handle);
        assertThat(hsm.list("default")).doesNotContain(handle);

        assertThatThrownBy(() -> hsm.sign("default", handle, alg, data))
                .isInstanceOf(HsmObjectMissingException.class)
                .satisfies(e -> assertThat(((HsmException) e).partition()).isEqualTo("default"));
        assertThatThrownBy(() -> hsm.publicKey("default", handle)).isInstanceOf(HsmObjectMissingException.class);
        assertThatThrownBy(() -> hsm.destroy("default", handle)).isInstanceOf(HsmObjectMissingException.class);
    }

    @Test
    void destroyedByAnotherInstanceIsMissingNotStale() {
        // A second node destroys the key while this one holds its handle in cache.
        String handle = newHandle("stale");
        hsm.generate("default", handle, SigningAlgorithm.ES256);
        hsm.sign("default", handle, SigningAlgorithm.ES256, new byte[] {1});
        SunPkcs11Hsm other = new SunPkcs11Hsm(TestHsm.partitionSettings());
        other.destroy("default", handle);
        assertThatThrownBy(() -> hsm.sign("default", handle, SigningAlgorithm.ES256, new byte[] {1}))
                .isInstanceOf(HsmObjectMissingException.class);
    }

    @Test
    void refusesAnExistingHandle() {
        String handle = newHandle("dup");
        hsm.generate("default", handle, SigningAlgorithm.ES256);
        assertThatThrownBy(() -> hsm.generate("default", handle, SigningAlgorithm.ES384))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(handle);
        assertThat(hsm.publicKey("default", handle)).isInstanceOf(ECPublicKey.class);
        hsm.destroy("default", handle);
    }

    @Test
    void refusesAnAlgorithmTheKeyCannotDo() {
        String handle = newHandle("mismatch");
        hsm.generate("default", handle, SigningAlgorithm.ES256);
        assertThatThrownBy(() -> hsm.sign("default", handle, SigningAlgorithm.ES384, new byte[] {1}))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> hsm.sign("default", handle, SigningAlgorithm.RS256, new byte[] {1}))
                .isInstanceOf(IllegalArgumentException.class);
        hsm.destroy("default", handle);
    }

    @Test
    void partitionsAreIsolated() {
        String handle = newHandle("iso");
        hsm.generate("default", handle, SigningAlgorithm.ES256);
        assertThat(hsm.list("default")).contains(handle);
        assertThat(hsm.list("east")).doesNotContain(handle);
        assertThatThrownBy(() -> hsm.sign("east", handle, SigningAlgorithm.ES256, new byte[] {1}))
                .isInstanceOf(HsmObjectMissingException.class)
                .satisfies(e -> assertThat(((HsmException) e).partition()).isEqualTo("east"));
        assertThatThrownBy(() -> hsm.publicKey("east", handle)).isInstanceOf(HsmObjectMissingException.class);
        assertThatThrownBy(() -> hsm.destroy("east", handle)).isInstanceOf(HsmObjectMissingException.class);
        // The same handle may exist independently in another partition.
        PublicKey east = hsm.generate("east", handle, SigningAlgorithm.ES256);
        assertThat(east).isNotEqualTo(hsm.publicKey("default", handle));
        hsm.destroy("east", handle);
        assertThat(hsm.list("default")).contains(handle);
        hsm.destroy("default", handle);
    }

    @Test
    void unknownPartition() {
        assertThat(hsm.partitions()).containsExactlyInAnyOrder("default", "east", "audit", "trust");
        assertThatThrownBy(() -> hsm.sign("nowhere", "k", SigningAlgorithm.ES256, new byte[] {1}))
                .isInstanceOf(UnknownPartitionException.class)
                .satisfies(e -> assertThat(((HsmException) e).partition()).isEqualTo("nowhere"));
        assertThatThrownBy(() -> hsm.list("nowhere")).isInstanceOf(UnknownPartitionException.class);
        assertThatThrownBy(() -> hsm.check("nowhere")).isInstanceOf(UnknownPartitionException.class);
        assertThatThrownBy(() -> hsm.generate("nowhere", "k", SigningAlgorithm.ES256))
                .isInstanceOf(UnknownPartitionException.class);
    }

    @Test
    void checkPassesOnHealthyPartitions() {
        for (String p : hsm.partitions()) {
            hsm.check(p);
        }
    }

    /**
     * PKCS#11 login state belongs to the token and the whole process, and SunPKCS11 skips C_Login when the token is
     * already logged in; so a wrong PIN is only detectable while nobody in this JVM is logged in to that token.
     * The test logs "audit" out through a provider of its own, shows the wrong PIN is refused, and then that the
     * main instance, whose session lost its login underneath it, recovers on its own.
     */
    @Test
    void wrongPinIsAnAuthenticationFailureAndTheMainInstanceRecovers() throws Exception {
        String handle = newHandle("audit");
        hsm.generate("audit", handle, SigningAlgorithm.ES256);
        byte[] data = {42};
        assertThat(hsm.sign("audit", handle, SigningAlgorithm.ES256, data)).hasSize(64);

        PartitionSettings good = TestHsm.settings("audit");
        String wrongPin = "wrong-" + good.pin().substring(0, 4);
        Provider raw = TestHsm.sunPkcs11Provider("audit", "logout");
        ((AuthProvider) raw).logout();

        SunPkcs11Hsm bad =
                new SunPkcs11Hsm(Map.of("audit", new PartitionSettings(good.library(), good.slot(), null, wrongPin)));
        assertThatThrownBy(() -> bad.check("audit"))
                .isInstanceOf(HsmAuthenticationException.class)
                .satisfies(e -> assertThat(((HsmException) e).partition()).isEqualTo("audit"))
                .satisfies(
                        e -> assertThat(e.getMessage()).doesNotContain(wrongPin).doesNotContain(good.pin()));
        // Not retried against the token: HSMs lock the user after a few wrong PINs.
        assertThatThrownBy(() -> bad.list("audit")).isInstanceOf(HsmAuthenticationException.class);

        assertThat(verifies(
                        hsm.publicKey("audit", handle),
                        SigningAlgorithm.ES256,
                        data,
                        hsm.sign("audit", handle, SigningAlgorithm.ES256, data)))
                .isTrue();
        hsm.check("audit");
        hsm.destroy("audit", handle);
    }

    /** Startup must survive an unusable partition; readiness then reports it through check(). */
    @Test
    void missingSlotOrLibraryIsUnavailableButDoesNotFailConstruction() {
        PartitionSettings good = TestHsm.settings("default");
        SunPkcs11Hsm down = new SunPkcs11Hsm(Map.of(
                "noslot", new PartitionSettings(good.library(), 987_654, null, good.pin()),
                "nolib", new PartitionSettings("/nonexistent/libpkcs11.so", 0, null, good.pin())));
        assertThat(down.partitions()).containsExactlyInAnyOrder("noslot", "nolib");
        for (String p : List.of("noslot", "nolib")) {
            assertThatThrownBy(() -> down.check(p))
                    .isInstanceOf(HsmUnavailableException.class)
                    .satisfies(e -> assertThat(((HsmException) e).partition()).isEqualTo(p))
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain(good.pin()));
            assertThatThrownBy(() -> down.sign(p, "k", SigningAlgorithm.ES256, new byte[] {1}))
                    .isInstanceOf(HsmUnavailableException.class);
        }
        // The broken partitions do not affect healthy ones.
        hsm.check("default");
    }

    @Test
    void settingsNeverPrintThePin() {
        PartitionSettings s = TestHsm.settings("default");
        assertThat(s.toString()).doesNotContain(s.pin());
    }

    @Test
    void concurrentSigning() throws Exception {
        String handle = newHandle("conc");
        PublicKey pub = hsm.generate("default", handle, SigningAlgorithm.ES256);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                Callable<Integer> job = () -> {
                    int ok = 0;
                    for (int i = 0; i < 200; i++) {
                        byte[] data = ("thread " + thread + " message " + i).getBytes(StandardCharsets.UTF_8);
                        byte[] sig = hsm.sign("default", handle, SigningAlgorithm.ES256, data);
                        if (verifies(pub, SigningAlgorithm.ES256, data, sig)) {
                            ok++;
                        }
                    }
                    return ok;
                };
                results.add(pool.submit(job));
            }
            for (Future<Integer> f : results) {
                assertThat(f.get(2, TimeUnit.MINUTES)).isEqualTo(200);
            }
        } finally {
            pool.shutdownNow();
        }
        hsm.destroy("default", handle);
    }

    @org.junit.jupiter.api.Test
    void dataObjectsAreWrittenReplacedAndReadBackAndAreNotKeys() {
        String label = "keyhold-test-data:" + newHandle("d");
        assertThat(hsm.getData("default", label)).isEmpty();
        hsm.putData("default", label, "1 sha256:abc".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThat(hsm.getData("default", label))
                .hasValueSatisfying(v -> assertThat(new String(v, java.nio.charset.StandardCharsets.US_ASCII))
                        .isEqualTo("1 sha256:abc"));
        hsm.putData("default", label, "2 sha256:def".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThat(hsm.getData("default", label))
                .hasValueSatisfying(v -> assertThat(new String(v, java.nio.charset.StandardCharsets.US_ASCII))
                        .isEqualTo("2 sha256:def"));
        // a data object is no key: the handle listing (what the reconciler looks at) does not show it
        assertThat(hsm.list("default")).doesNotContain(label);
    }
}
