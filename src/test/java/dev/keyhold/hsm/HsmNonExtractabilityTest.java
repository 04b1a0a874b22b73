package dev.keyhold.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.testsupport.TestHsm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPrivateKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Invariant 2, checked from outside Java: a second PKCS#11 client (OpenSC's pkcs11-tool) reads the key's
 * attributes back from the token, so the test does not trust the provider that set them.
 */
class HsmNonExtractabilityTest {

    private static SunPkcs11Hsm hsm;
    private static final List<String> created = new ArrayList<>();

    @BeforeAll
    static void connect() {
        hsm = new SunPkcs11Hsm(TestHsm.partitionSettings());
    }

    @AfterAll
    static void cleanUp() {
        for (String h : created) {
            try {
                hsm.destroy("default", h);
            } catch (HsmObjectMissingException ignored) {
                // already gone
            }
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = SigningAlgorithm.class,
            names = {"ES256", "RS256"})
    void privateKeyIsSensitiveNeverExtractableAndSignOnly(SigningAlgorithm alg) throws Exception {
        String handle = "nx-" + alg + "-" + UUID.randomUUID();
        hsm.generate("default", handle, alg);
        created.add(handle);

        Map<String, String> attrs = pkcs11ToolPrivateKey(handle);
        List<String> access = splitList(attrs.get("Access"));
        assertThat(access).contains("sensitive", "always sensitive", "never extractable", "local");
        assertThat(access).doesNotContain("extractable");
        List<String> usage = splitList(attrs.get("Usage"));
        assertThat(usage).contains("sign").doesNotContain("decrypt", "unwrap", "derive");

        // A second client, the JDK's PKCS11 KeyStore on its own provider, finds the key by its handle (the
        // adapter writes the KeyStore's layout) and still gets nothing out of it.
        Provider provider = TestHsm.sunPkcs11Provider("default", "nx-" + alg);
        KeyStore ks = KeyStore.getInstance("PKCS11", provider);
        ks.load(null, TestHsm.settings("default").pin().toCharArray());
        assertThat(ks.getCertificate(handle).getPublicKey().getEncoded())
                .isEqualTo(hsm.publicKey("default", handle).getEncoded());
        assertNoKeyMaterial((PrivateKey) ks.getKey(handle, null), alg, provider);
    }

    private static void assertNoKeyMaterial(PrivateKey key, SigningAlgorithm alg, Provider provider) throws Exception {
        assertThat(key).isNotNull();
        assertThat(key.getEncoded()).isNull();
        if (key instanceof ECPrivateKey ec) {
            assertThat(catchThrowable(ec::getS) != null || ec.getS() == null).isTrue();
        }
        if (key instanceof RSAPrivateKey rsa) {
            assertThat(catchThrowable(rsa::getPrivateExponent) != null || rsa.getPrivateExponent() == null)
                    .isTrue();
        }
        // Export through the provider's own key factory...
        KeyFactory p11 = KeyFactory.getInstance(alg.keyType(), provider);
        assertThatThrownBy(() -> p11.getKeySpec(key, PKCS8EncodedKeySpec.class)).isInstanceOf(Exception.class);
        Class<? extends java.security.spec.KeySpec> clear =
                alg.keyType().equals("EC") ? ECPrivateKeySpec.class : RSAPrivateKeySpec.class;
        assertThatThrownBy(() -> p11.getKeySpec(key, clear)).isInstanceOf(Exception.class);
        // ...through a software provider's translation...
        KeyFactory jdk = KeyFactory.getInstance(alg.keyType());
        assertThatThrownBy(() -> jdk.translateKey(key)).isInstanceOf(Exception.class);
        // ...and through Java serialization.
        assertThatThrownBy(() -> {
                    try (ObjectOutputStream out = new ObjectOutputStream(new ByteArrayOutputStream())) {
                        out.writeObject(key);
                    }
                })
                .isInstanceOf(IOException.class);
    }

    /** The attribute lines of the private key object whose CKA_ID is {@code handle}, as pkcs11-tool prints them. */
    private static Map<String, String> pkcs11ToolPrivateKey(String handle) throws Exception {
        Map<String, String> config = TestHsm.config();
        String prefix = "keyhold.hsm.partitions.default.";
        ProcessBuilder pb = new ProcessBuilder(
                        "pkcs11-tool",
                        "--module",
                        config.get(prefix + "library"),
                        "--slot",
                        config.get(prefix + "slot"),
                        "--login",
                        "--pin",
                        config.get(prefix + "pin"),
                        "--list-objects",
                        "--type",
                        "privkey")
                .redirectErrorStream(true);
        pb.environment().put("SOFTHSM2_CONF", TestHsm.softhsmConf().toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();

        String id = HexFormat.of().formatHex(handle.getBytes(StandardCharsets.UTF_8));
        for (String block : out.split("\\R(?=\\S)")) {
            Map<String, String> attrs = new java.util.LinkedHashMap<>();
            for (String line : block.split("\\R")) {
                int colon = line.indexOf(':');
                if (line.startsWith(" ") && colon > 0) {
                    attrs.put(
                            line.substring(0, colon).strip(),
                            line.substring(colon + 1).strip());
                }
            }
            if (block.startsWith("Private Key Object") && id.equalsIgnoreCase(attrs.get("ID"))) {
                return attrs;
            }
        }
        throw new AssertionError("pkcs11-tool lists no private key with ID " + id + ":\n" + out);
    }

    private static List<String> splitList(String value) {
        assertThat(value).isNotNull();
        return Arrays.stream(value.split(","))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .toList();
    }
}
