package dev.keyhold.custodian.webauthn;

import static dev.keyhold.testsupport.SoftAuthenticator.AT;
import static dev.keyhold.testsupport.SoftAuthenticator.UP;
import static dev.keyhold.testsupport.SoftAuthenticator.UV;
import static dev.keyhold.testsupport.SoftAuthenticator.b64;
import static dev.keyhold.testsupport.SoftAuthenticator.clientData;
import static dev.keyhold.testsupport.SoftAuthenticator.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.custodian.signature.InvalidSignatureException;
import dev.keyhold.testsupport.SoftAuthenticator;
import dev.keyhold.testsupport.SoftAuthenticator.Assertion;
import dev.keyhold.testsupport.SoftAuthenticator.Registration;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Registrations and assertions made byte by byte by a software authenticator ({@link SoftAuthenticator}), each
 * refusal starting from one that passes and changing one thing.
 */
class WebAuthnCredentialsTest {

    private static final String ORIGIN = "http://localhost:8080";
    private static final Set<String> ORIGINS = Set.of(ORIGIN);
    private static final String RP = "localhost";
    private static final byte[] STATEMENT =
            "{\"type\":\"keyhold.approval.v1\",\"request\":\"r-1\"}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] CHALLENGE = sha256(STATEMENT);

    // ---- registration -----------------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"ES256", "RS256", "EdDSA"})
    void aRegistrationWithAttestationNoneEnrollsTheCredentialItsAssertionsThenVerifyUnder(String alg) {
        SoftAuthenticator a = authenticator(alg);
        byte[] enrollChallenge = random(32);
        Registration r = a.register(enrollChallenge, ORIGIN, RP);

        WebAuthnCredentials.Registered reg =
                WebAuthnCredentials.register(r.attestationObject(), r.clientDataJSON(), enrollChallenge, ORIGINS, RP);

        assertThat(reg.credentialId()).isEqualTo(a.credentialIdB64());
        assertThat(reg.publicKeySpki()).isEqualTo(a.publicKeySpki());
        assertThat(reg.algorithm()).isEqualTo(alg);
        Assertion as = a.assertion(CHALLENGE, ORIGIN, RP);
        assertThatCode(() -> WebAuthnCredentials.verifyAssertion(
                        reg.publicKeySpki(),
                        as.authenticatorData(),
                        as.clientDataJSON(),
                        as.signature(),
                        CHALLENGE,
                        ORIGINS,
                        RP))
                .doesNotThrowAnyException();
    }

    @Test
    void selfAttestationIsAccepted() {
        SoftAuthenticator a = SoftAuthenticator.es256();
        byte[] c = random(32);
        Registration r = a.register(clientData("webauthn.create", c, ORIGIN), RP, UP | UV | AT, a);
        assertThat(WebAuthnCredentials.register(r.attestationObject(), r.clientDataJSON(), c, ORIGINS, RP)
                        .publicKeySpki())
                .isEqualTo(a.publicKeySpki());
    }

    @Test
    void selfAttestationSignedByAnotherKeyIsRefused() {
        SoftAuthenticator a = SoftAuthenticator.es256();
        byte[] c = random(32);
        Registration r =
                a.register(clientData("webauthn.create", c, ORIGIN), RP, UP | UV | AT, SoftAuthenticator.es256());
        assertRefused(
                () -> WebAuthnCredentials.register(r.attestationObject(), r.clientDataJSON(), c, ORIGINS, RP),
                "attestation");
    }

    @Test
    void aRegistrationForAnotherChallengeIsRefused() {
        SoftAuthenticator a = SoftAuthenticator.es256();
        Registration r = a.register(random(32), ORIGIN, RP);
        assertRefused(
                () -> WebAuthnCredentials.register(r.attestationObject(), r.clientDataJSON(), random(32), ORIGINS, RP),
                "another challenge");
    }

    @Test
    void aRegistrationOnAnotherOriginIsRefused() {
        byte[] c = random(32);
        Registration r = SoftAuthenticator.es256().register(c, "https://evil.example", RP);
        assertRefused(
                () -> WebAuthnCredentials.register(r.attestationObject(), r.clientDataJSON(), c, ORIGINS, RP),
                "origin");
    }

    @Test
    void aRegistrationForAnotherRelyingPartyIsRefused() {
        byte[] c = random(32);
        Registration r = SoftAuthenticator.es256().register(c, ORIGIN, "evil.example");
        assertRefused(
                () -> WebAuthnCredentials.register(r.attestationObject(), r.clientDataJSON(), c, ORIGINS, RP),
                "rpIdHash");
    }

    @Test
    void aRegistrationWithoutUserPresenceIsRefused() {
        byte[] c = random(32);
        Registration r =
                SoftAuthenticator.es256().register(clientData("webauthn.create", c, ORIGIN), RP, UV | AT, null);
        assertRefused(
                () -> WebAuthnCredentials.register(r.attestationObject(), r.clientDataJSON(), c, ORIGINS, RP),
                "UP flag");
    }

    @Test
    void anAssertionIsNotARegistration() {
        byte[] c = random(32);
        Registration r =
                SoftAuthenticator.es256().register(clientData("webauthn.get", c, ORIGIN), RP, UP | UV | AT, null);
        assertRefused(
                () -> WebAuthnCredentials.register(r.attestationObject(), r.clientDataJSON(), c, ORIGINS, RP),
                "webauthn.create");
    }

    @Test
    void aCrossOriginRegistrationIsRefused() {
        byte[] c = random(32);
        byte[] cd = ("{\"type\":\"webauthn.create\",\"challenge\":\"" + b64(c) + "\",\"origin\":\"" + ORIGIN
                        + "\",\"crossOrigin\":true}")
                .getBytes(StandardCharsets.UTF_8);
        Registration r = SoftAuthenticator.es256().register(cd, RP, UP | UV | AT, null);
        assertRefused(
                () -> WebAuthnCredentials.register(r.attestationObject(), r.clientDataJSON(), c, ORIGINS, RP),
                "crossOrigin");
    }

    @Test
    void malformedRegistrationsAreRefused() {
        byte[] c = random(32);
        Registration r = SoftAuthenticator.es256().register(c, ORIGIN, RP);
        assertRefused(() -> WebAuthnCredentials.register(random(80), r.clientDataJSON(), c, ORIGINS, RP), "");
        assertRefused(
                () -> WebAuthnCredentials.register(
                        Arrays.copyOf(r.attestationObject(), 60), r.clientDataJSON(), c, ORIGINS, RP),
                "");
        assertRefused(
                () -> WebAuthnCredentials.register(
                        r.attestationObject(), "not json".getBytes(StandardCharsets.UTF_8), c, ORIGINS, RP),
                "clientDataJSON");
        assertRefused(
                () -> WebAuthnCredentials.register(null, r.clientDataJSON(), c, ORIGINS, RP), "attestationObject");
    }

    // ---- assertion --------------------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"ES256", "RS256", "EdDSA"})
    void anAssertionOverTheStatementsDigestVerifies(String alg) {
        SoftAuthenticator a = authenticator(alg);
        Assertion as = a.assertion(CHALLENGE, ORIGIN, RP);
        assertThatCode(() -> verify(a.publicKeySpki(), as, CHALLENGE)).doesNotThrowAnyException();
    }

    @Test
    void anAssertionOverAnotherChallengeIsRefused() {
        SoftAuthenticator a = SoftAuthenticator.es256();
        byte[] other =
                sha256("{\"type\":\"keyhold.approval.v1\",\"request\":\"r-2\"}".getBytes(StandardCharsets.UTF_8));
        Assertion as = a.assertion(other, ORIGIN, RP);
        assertRefused(() -> verify(a.publicKeySpki(), as, CHALLENGE), "another challenge");
    }

    @Test
    void anAssertionMadeOnAnotherOriginIsRefused() {
        SoftAuthenticator a = SoftAuthenticator.es256();
        Assertion as = a.assertion(CHALLENGE, "https://evil.example", RP);
        assertRefused(() -> verify(a.publicKeySpki(), as, CHALLENGE), "origin");
        Assertion otherPort = a.assertion(CHALLENGE, "http://localhost:9999", RP);
        assertRefused(() -> verify(a.publicKeySpki(), otherPort, CHALLENGE), "origin");
    }

    @Test
    void anAssertionForAnotherRelyingPartyIsRefused() {
        SoftAuthenticator a = SoftAuthenticator.es256();
        Assertion as = a.assertion(CHALLENGE, ORIGIN, "evil.example");
        assertRefused(() -> verify(a.publicKeySpki(), as, CHALLENGE), "rpIdHash");
    }

    @Test
    void anAssertionWithoutUserPresenceIsRefusedEvenWhenSigned() {
        SoftAuthenticator a = SoftAuthenticator.es256();
        Assertion as = a.assertion(clientData("webauthn.get", CHALLENGE, ORIGIN), RP, UV);
        assertRefused(() -> verify(a.publicKeySpki(), as, CHALLENGE), "UP flag");
    }

    @Test
    void aTamperedSignatureIsRefused() {
        for (SoftAuthenticator a : new SoftAuthenticator[] {
            SoftAuthenticator.es256(), SoftAuthenticator.rs256(), SoftAuthenticator.ed25519()
        }) {
            Assertion as = a.assertion(CHALLENGE, ORIGIN, RP);
            byte[] sig = as.signature().clone();
            sig[sig.length - 3] ^= 0x01;
            assertRefused(
                    () -> WebAuthnCredentials.verifyAssertion(
                            a.publicKeySpki(),
                            as.authenticatorData(),
                            as.clientDataJSON(),
                            sig,
                            CHALLENGE,
                            ORIGINS,
                            RP),
                    "signature");
            assertRefused(
                    () -> WebAuthnCredentials.verifyAssertion(
                            a.publicKeySpki(),
                            as.authenticatorData(),
                            as.clientDataJSON(),
                            Arrays.copyOf(as.signature(), 8),
                            CHALLENGE,
                            ORIGINS,
                            RP),
                    "signature");
        }
    }

    @Test
    void tamperedSignedBytesAreRefused() {
        SoftAuthenticator a = SoftAuthenticator.es256();
        Assertion as = a.assertion(CHALLENGE, ORIGIN, RP);
        byte[] auth = as.authenticatorData().clone();
        auth[32] ^= UV; // flags changed after signing
        assertRefused(
                () -> WebAuthnCredentials.verifyAssertion(
                        a.publicKeySpki(), auth, as.clientDataJSON(), as.signature(), CHALLENGE, ORIGINS, RP),
                "signature");
        byte[] cd = new String(as.clientDataJSON(), StandardCharsets.UTF_8)
                .replace("\"crossOrigin\":false", "\"crossOrigin\":false ")
                .getBytes(StandardCharsets.UTF_8); // same meaning, other bytes
        assertRefused(
                () -> WebAuthnCredentials.verifyAssertion(
                        a.publicKeySpki(), as.authenticatorData(), cd, as.signature(), CHALLENGE, ORIGINS, RP),
                "signature");
    }

    @Test
    void anotherCredentialsKeyDoesNotVerify() {
        SoftAuthenticator a = SoftAuthenticator.es256();
        SoftAuthenticator b = SoftAuthenticator.es256();
        Assertion as = a.assertion(CHALLENGE, ORIGIN, RP);
        assertRefused(() -> verify(b.publicKeySpki(), as, CHALLENGE), "signature");
    }

    @Test
    void wrongKeyTypesAreRefused() throws Exception {
        SoftAuthenticator a = SoftAuthenticator.es256();
        Assertion as = a.assertion(CHALLENGE, ORIGIN, RP);
        // an ES256 signature checked under an RSA or Ed25519 credential key
        assertRefused(() -> verify(SoftAuthenticator.rs256().publicKeySpki(), as, CHALLENGE), "signature");
        assertRefused(() -> verify(SoftAuthenticator.ed25519().publicKeySpki(), as, CHALLENGE), "signature");
        // keys no credential may have: EC P-384, RSA 1024, Ed448, DSA, not a key at all
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new ECGenParameterSpec("secp384r1"));
        assertRefused(() -> verify(b64(ec.generateKeyPair().getPublic().getEncoded()), as, CHALLENGE), "P-256");
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(1024);
        assertRefused(() -> verify(b64(rsa.generateKeyPair().getPublic().getEncoded()), as, CHALLENGE), "2048");
        String ed448 = b64(KeyPairGenerator.getInstance("Ed448")
                .generateKeyPair()
                .getPublic()
                .getEncoded());
        assertRefused(() -> verify(ed448, as, CHALLENGE), "");
        KeyPairGenerator dsa = KeyPairGenerator.getInstance("DSA");
        dsa.initialize(2048);
        assertRefused(() -> verify(b64(dsa.generateKeyPair().getPublic().getEncoded()), as, CHALLENGE), "");
        assertRefused(() -> verify(b64(random(91)), as, CHALLENGE), "");
        assertRefused(() -> verify("not base64url!", as, CHALLENGE), "");
    }

    @Test
    void aRegistrationIsNotAnAssertion() {
        SoftAuthenticator a = SoftAuthenticator.es256();
        Assertion as = a.assertion(clientData("webauthn.create", CHALLENGE, ORIGIN), RP, UP | UV);
        assertRefused(() -> verify(a.publicKeySpki(), as, CHALLENGE), "webauthn.get");
    }

    @Test
    void crossOriginAndMalformedClientDataAreRefused() {
        SoftAuthenticator a = SoftAuthenticator.es256();
        byte[] cross = ("{\"type\":\"webauthn.get\",\"challenge\":\"" + b64(CHALLENGE) + "\",\"origin\":\"" + ORIGIN
                        + "\",\"crossOrigin\":true}")
                .getBytes(StandardCharsets.UTF_8);
        assertRefused(() -> verify(a.publicKeySpki(), a.assertion(cross, RP, UP), CHALLENGE), "crossOrigin");
        byte[] padded = ("{\"type\":\"webauthn.get\",\"challenge\":\""
                        + java.util.Base64.getUrlEncoder().encodeToString(CHALLENGE) + "\",\"origin\":\"" + ORIGIN
                        + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        assertRefused(() -> verify(a.publicKeySpki(), a.assertion(padded, RP, UP), CHALLENGE), "challenge");
        byte[] twice = ("{\"type\":\"webauthn.get\",\"challenge\":\"" + b64(random(32)) + "\",\"challenge\":\""
                        + b64(CHALLENGE) + "\",\"origin\":\"" + ORIGIN + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        assertRefused(() -> verify(a.publicKeySpki(), a.assertion(twice, RP, UP), CHALLENGE), "clientDataJSON");
        byte[] array = "[]".getBytes(StandardCharsets.UTF_8);
        assertRefused(() -> verify(a.publicKeySpki(), a.assertion(array, RP, UP), CHALLENGE), "clientDataJSON");
        Assertion ok = a.assertion(CHALLENGE, ORIGIN, RP);
        assertRefused(
                () -> WebAuthnCredentials.verifyAssertion(
                        a.publicKeySpki(),
                        Arrays.copyOf(ok.authenticatorData(), 36),
                        ok.clientDataJSON(),
                        ok.signature(),
                        CHALLENGE,
                        ORIGINS,
                        RP),
                "too short");
    }

    @Test
    void theSignCounterIsNotEnforced() {
        SoftAuthenticator a = SoftAuthenticator.es256();
        Assertion as = a.assertion(CHALLENGE, ORIGIN, RP);
        verify(a.publicKeySpki(), as, CHALLENGE);
        verify(a.publicKeySpki(), as, CHALLENGE); // the same evidence re-checked later
    }

    // ---- origins ----------------------------------------------------------------------------------------------------

    @Test
    void anOriginEntryWithAPortWildcardAllowsThatSchemeAndHostOnly() {
        Set<String> any = Set.of("http://localhost:*");
        assertThat(WebAuthnCredentials.originAllowed("http://localhost:8081", any))
                .isTrue();
        assertThat(WebAuthnCredentials.originAllowed("http://localhost", any)).isTrue();
        assertThat(WebAuthnCredentials.originAllowed("https://localhost:8081", any))
                .isFalse();
        assertThat(WebAuthnCredentials.originAllowed("http://localhost.evil.example:8081", any))
                .isFalse();
        assertThat(WebAuthnCredentials.originAllowed("http://localhost:8081.evil.example", any))
                .isFalse();
        assertThat(WebAuthnCredentials.originAllowed("http://localhost:", any)).isFalse();
        assertThat(WebAuthnCredentials.originAllowed("http://127.0.0.1:8081", any))
                .isFalse();
        assertThat(WebAuthnCredentials.originAllowed(
                        "https://keyhold.example.com", Set.of("https://keyhold.example.com/")))
                .isTrue();
        assertThat(WebAuthnCredentials.originAllowed(
                        "https://keyhold.example.com:8443", Set.of("https://keyhold.example.com")))
                .isFalse();

        SoftAuthenticator a = SoftAuthenticator.es256();
        Assertion as = a.assertion(CHALLENGE, "http://localhost:41234", RP);
        assertThatCode(() -> WebAuthnCredentials.verifyAssertion(
                        a.publicKeySpki(),
                        as.authenticatorData(),
                        as.clientDataJSON(),
                        as.signature(),
                        CHALLENGE,
                        any,
                        RP))
                .doesNotThrowAnyException();
        byte[] c = random(32);
        Registration r = a.register(c, "http://localhost:41234", RP);
        assertThat(WebAuthnCredentials.register(r.attestationObject(), r.clientDataJSON(), c, any, RP)
                        .credentialId())
                .isEqualTo(a.credentialIdB64());
        Registration evil = a.register(c, "http://localhost.evil.example:41234", RP);
        assertRefused(
                () -> WebAuthnCredentials.register(evil.attestationObject(), evil.clientDataJSON(), c, any, RP),
                "origin");
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private static void verify(String spki, Assertion as, byte[] challenge) {
        WebAuthnCredentials.verifyAssertion(
                spki, as.authenticatorData(), as.clientDataJSON(), as.signature(), challenge, ORIGINS, RP);
    }

    private static void assertRefused(Runnable r, String messagePart) {
        assertThatThrownBy(r::run).isInstanceOf(InvalidSignatureException.class).hasMessageContaining(messagePart);
    }

    private static void assertRefused(Supplier<?> s, String messagePart) {
        assertRefused((Runnable) s::get, messagePart);
    }

    private static SoftAuthenticator authenticator(String alg) {
        return switch (alg) {
            case "ES256" -> SoftAuthenticator.es256();
            case "RS256" -> SoftAuthenticator.rs256();
            default -> SoftAuthenticator.ed25519();
        };
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }
}
