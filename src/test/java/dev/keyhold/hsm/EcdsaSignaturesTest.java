package dev.keyhold.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EcdsaSignaturesTest {

    private static final HexFormat HEX = HexFormat.of();

    @Test
    void simpleRoundTrip() {
        byte[] jose = new byte[64];
        Arrays.fill(jose, 0, 32, (byte) 0x11);
        Arrays.fill(jose, 32, 64, (byte) 0x22);
        byte[] der = EcdsaSignatures.joseToDer(jose);
        assertThat(der).isEqualTo(HEX.parseHex("3044" + "0220" + "11".repeat(32) + "0220" + "22".repeat(32)));
        assertThat(EcdsaSignatures.derToJose(der, 64)).isEqualTo(jose);
    }

    @Test
    void highBitGetsASignByteInDerAndLosesItInJose() {
        byte[] jose = new byte[64];
        Arrays.fill(jose, (byte) 0x80);
        byte[] der = EcdsaSignatures.joseToDer(jose);
        assertThat(der).isEqualTo(HEX.parseHex("3046" + "022100" + "80".repeat(32) + "022100" + "80".repeat(32)));
        assertThat(EcdsaSignatures.derToJose(der, 64)).isEqualTo(jose);
    }

    @Test
    void leadingZerosAreStrippedInDerAndRestoredInJose() {
        // r = 0x00 00 7f ff...: two leading zero bytes vanish in DER (0x7f keeps the sign positive).
        byte[] jose = new byte[64];
        jose[2] = 0x7f;
        Arrays.fill(jose, 3, 32, (byte) 0xff);
        jose[63] = 0x01; // s = 1
        byte[] der = EcdsaSignatures.joseToDer(jose);
        assertThat(der).isEqualTo(HEX.parseHex("3023" + "021e7f" + "ff".repeat(29) + "020101"));
        assertThat(EcdsaSignatures.derToJose(der, 64)).isEqualTo(jose);
    }

    @Test
    void shortIntegersArePaddedToTheFieldSize() {
        byte[] der = HEX.parseHex("3006020101020102");
        byte[] jose = EcdsaSignatures.derToJose(der, 64);
        assertThat(jose).hasSize(64);
        assertThat(jose[31]).isEqualTo((byte) 1);
        assertThat(jose[63]).isEqualTo((byte) 2);
        assertThat(Arrays.copyOfRange(jose, 0, 31)).containsOnly(0);
        assertThat(Arrays.copyOfRange(jose, 32, 63)).containsOnly(0);
    }

    @Test
    void zeroIsOneZeroByte() {
        assertThat(EcdsaSignatures.joseToDer(new byte[64])).isEqualTo(HEX.parseHex("3006020100020100"));
        assertThat(EcdsaSignatures.derToJose(HEX.parseHex("3006020100020100"), 64))
                .isEqualTo(new byte[64]);
    }

    @Test
    void longFormLengthForP521() {
        byte[] jose = new byte[132];
        Arrays.fill(jose, (byte) 0x01);
        byte[] der = EcdsaSignatures.joseToDer(jose);
        assertThat(der[0]).isEqualTo((byte) 0x30);
        assertThat(der[1]).isEqualTo((byte) 0x81);
        assertThat(der[2] & 0xff).isEqualTo(der.length - 3);
        assertThat(EcdsaSignatures.derToJose(der, 132)).isEqualTo(jose);
    }

    @ParameterizedTest
    @ValueSource(strings = {"secp256r1", "secp384r1", "secp521r1"})
    void roundTripsRealJdkSignatures(String curve) throws Exception {
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
        kpg.initialize(new ECGenParameterSpec(curve));
        KeyPair pair = kpg.generateKeyPair();
        int length = switch (curve) {
            case "secp256r1" -> 64;
            case "secp384r1" -> 96;
            default -> 132;
        };
        // Enough signatures that short r or s values (1 in 256 per integer) occur too.
        for (int i = 0; i < 300; i++) {
            byte[] data = ("message " + i).getBytes();
            Signature signer = Signature.getInstance("SHA256withECDSA");
            signer.initSign(pair.getPrivate());
            signer.update(data);
            byte[] der = signer.sign();
            byte[] jose = EcdsaSignatures.derToJose(der, length);
            assertThat(jose).hasSize(length);
            assertThat(EcdsaSignatures.joseToDer(jose)).isEqualTo(der);
            Signature verifier = Signature.getInstance("SHA256withECDSA");
            verifier.initVerify(pair.getPublic());
            verifier.update(data);
            assertThat(verifier.verify(EcdsaSignatures.joseToDer(jose))).isTrue();
        }
    }

    @Test
    void refusesMalformedDer() {
        assertThatThrownBy(() -> EcdsaSignatures.derToJose(null, 64)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EcdsaSignatures.derToJose(new byte[0], 64))
                .isInstanceOf(IllegalArgumentException.class);
        // not a SEQUENCE
        assertThatThrownBy(() -> EcdsaSignatures.derToJose(HEX.parseHex("3106020101020102"), 64))
                .isInstanceOf(IllegalArgumentException.class);
        // SEQUENCE length disagrees with the content
        assertThatThrownBy(() -> EcdsaSignatures.derToJose(HEX.parseHex("3007020101020102"), 64))
                .isInstanceOf(IllegalArgumentException.class);
        // trailing garbage
        assertThatThrownBy(() -> EcdsaSignatures.derToJose(HEX.parseHex("300602010102010200"), 64))
                .isInstanceOf(IllegalArgumentException.class);
        // negative integer
        assertThatThrownBy(() -> EcdsaSignatures.derToJose(HEX.parseHex("3006020181020102"), 64))
                .isInstanceOf(IllegalArgumentException.class);
        // non-minimal integer
        assertThatThrownBy(() -> EcdsaSignatures.derToJose(HEX.parseHex("300702020001020102"), 64))
                .isInstanceOf(IllegalArgumentException.class);
        // an integer longer than the field
        assertThatThrownBy(
                        () -> EcdsaSignatures.derToJose(HEX.parseHex("3025" + "0221" + "01".repeat(33) + "020102"), 64))
                .isInstanceOf(IllegalArgumentException.class);
        // odd target length
        assertThatThrownBy(() -> EcdsaSignatures.derToJose(HEX.parseHex("3006020101020102"), 63))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void refusesMalformedJose() {
        assertThatThrownBy(() -> EcdsaSignatures.joseToDer(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EcdsaSignatures.joseToDer(new byte[0])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EcdsaSignatures.joseToDer(new byte[63])).isInstanceOf(IllegalArgumentException.class);
    }
}
