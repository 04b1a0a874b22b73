package dev.keyhold.hsm;

import static dev.keyhold.hsm.SunPkcs11HsmTest.verifies;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.testsupport.TestHsm;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Provider;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import java.util.HexFormat;
import java.util.UUID;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The token layout the adapter writes and reads, checked against the JDK's PKCS11 KeyStore as a second client, and
 * the leftovers a crash can make (a private key without its certificate). Each test uses a fresh adapter where it
 * matters, so keys are found in the token, not in the adapter's cache.
 */
class TokenLayoutTest {

    private static final byte[] DATA = "header.payload".getBytes(StandardCharsets.US_ASCII);

    private static SunPkcs11Hsm fresh() {
        return new SunPkcs11Hsm(TestHsm.partitionSettings());
    }

    @ParameterizedTest
    @EnumSource(SigningAlgorithm.class)
    void anotherInstanceFindsAndSignsWithAGeneratedKey(SigningAlgorithm alg) throws Exception {
        String handle = "layout-" + alg + "-" + UUID.randomUUID();
        PublicKey generated = fresh().generate("default", handle, alg);

        SunPkcs11Hsm other = fresh();
        assertThat(other.publicKey("default", handle)).isEqualTo(generated);
        byte[] sig = other.sign("default", handle, alg, DATA);
        assertThat(verifies(generated, alg, DATA, sig)).isTrue();
        assertThat(other.list("default")).contains(handle);
        other.destroy("default", handle);
        assertThat(fresh().list("default")).doesNotContain(handle);
    }

    /** Tokens written by earlier Keyhold versions (through KeyStore.setKeyEntry) stay usable. */
    @Test
    void keyStoredThroughThePkcs11KeyStoreIsUsable() throws Exception {
        String handle = "keystore-" + UUID.randomUUID();
        Provider provider = TestHsm.sunPkcs11Provider("default", "layout-keystore");
        KeyStore ks = KeyStore.getInstance("PKCS11", provider);
        ks.load(null, TestHsm.settings("default").pin().toCharArray());
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC", provider);
        kpg.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = kpg.generateKeyPair();
        X500Name name = new X500Name("CN=" + handle);
        var cert = new JcaX509CertificateConverter()
                .getCertificate(new JcaX509v3CertificateBuilder(
                                name,
                                BigInteger.ONE,
                                new Date(0L),
                                new Date(4_102_444_800_000L),
                                name,
                                pair.getPublic())
                        .build(new JcaContentSignerBuilder("SHA256withECDSA")
                                .setProvider(provider)
                                .build(pair.getPrivate())));
        ks.setKeyEntry(handle, pair.getPrivate(), null, new Certificate[] {cert});

        SunPkcs11Hsm hsm = fresh();
        assertThat(hsm.list("default")).contains(handle);
        PublicKey pub = hsm.publicKey("default", handle);
        assertThat(pub.getEncoded()).isEqualTo(pair.getPublic().getEncoded());
        assertThat(verifies(
                        pub, SigningAlgorithm.ES256, DATA, hsm.sign("default", handle, SigningAlgorithm.ES256, DATA)))
                .isTrue();
        hsm.destroy("default", handle);
        ks.load(null, TestHsm.settings("default").pin().toCharArray());
        assertThat(ks.containsAlias(handle)).isFalse();
    }

    /**
     * A crash between generating the private key and storing its certificate leaves a private key alone. It must
     * be listed (so reconciliation can destroy it), refuse to sign, and be destroyable.
     */
    @Test
    void privateKeyWithoutCertificateIsListedNeverUsedAndDestroyable() throws Exception {
        String handle = "orphan-" + UUID.randomUUID();
        String hexId = HexFormat.of().formatHex(handle.getBytes(StandardCharsets.UTF_8));
        var s = TestHsm.settings("default");
        Provider provider = TestHsm.sunPkcs11Provider(
                "default",
                "layout-orphan",
                "attributes(generate, CKO_PRIVATE_KEY, *) = {\n  CKA_TOKEN = true\n  CKA_PRIVATE = true\n"
                        + "  CKA_SENSITIVE = true\n  CKA_ID = 0h" + hexId + "\n}\n");
        KeyStore.getInstance("PKCS11", provider).load(null, s.pin().toCharArray());
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC", provider);
        kpg.initialize(new ECGenParameterSpec("secp256r1"));
        kpg.generateKeyPair();

        SunPkcs11Hsm hsm = fresh();
        assertThat(hsm.list("default")).contains(handle);
        assertThatThrownBy(() -> hsm.sign("default", handle, SigningAlgorithm.ES256, DATA))
                .isInstanceOf(HsmObjectMissingException.class);
        assertThatThrownBy(() -> hsm.generate("default", handle, SigningAlgorithm.ES256))
                .isInstanceOf(IllegalArgumentException.class);
        hsm.destroy("default", handle);
        assertThat(hsm.list("default")).doesNotContain(handle);
        assertThatThrownBy(() -> hsm.destroy("default", handle)).isInstanceOf(HsmObjectMissingException.class);
    }

    /** The duplicate check also sees handles that another instance created after this one first looked. */
    @Test
    void aHandleAnotherInstanceCreatedIsRefusedAfterAListing() {
        SunPkcs11Hsm hsm = fresh();
        String warmup = "dup-warmup-" + UUID.randomUUID();
        hsm.generate("default", warmup, SigningAlgorithm.ES256);
        String handle = "dup-other-" + UUID.randomUUID();
        fresh().generate("default", handle, SigningAlgorithm.ES256);
        assertThat(hsm.list("default")).contains(handle);
        assertThatThrownBy(() -> hsm.generate("default", handle, SigningAlgorithm.ES256))
                .isInstanceOf(IllegalArgumentException.class);
        hsm.destroy("default", handle);
        hsm.destroy("default", warmup);
    }

    /** Started without the JVM option, the adapter refuses at once and names the option, instead of failing later. */
    @Test
    void withoutTheExportTheAdapterSaysWhatToAdd() throws Exception {
        Process p = new ProcessBuilder(
                        java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java")
                                .toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        WithoutExport.class.getName())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isEqualTo(3);
        assertThat(out).contains(SunPkcs11Hsm.REQUIRED_JVM_OPTION);
    }

    /** Child JVM main for the test above. */
    static final class WithoutExport {
        public static void main(String[] args) {
            try {
                new SunPkcs11Hsm(java.util.Map.of(
                        "p", new SunPkcs11Hsm.PartitionSettings("/usr/lib/softhsm/libsofthsm2.so", 0, null, "unused")));
                System.exit(0);
            } catch (IllegalStateException e) {
                System.out.println(e.getMessage());
                System.exit(3);
            }
        }
    }
}
