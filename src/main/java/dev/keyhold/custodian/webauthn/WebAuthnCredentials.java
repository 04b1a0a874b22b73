package dev.keyhold.custodian.webauthn;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.webauthn4j.WebAuthnRegistrationManager;
import com.webauthn4j.converter.exception.DataConversionException;
import com.webauthn4j.data.PublicKeyCredentialParameters;
import com.webauthn4j.data.PublicKeyCredentialType;
import com.webauthn4j.data.RegistrationData;
import com.webauthn4j.data.RegistrationParameters;
import com.webauthn4j.data.RegistrationRequest;
import com.webauthn4j.data.attestation.authenticator.AttestedCredentialData;
import com.webauthn4j.data.attestation.authenticator.COSEKey;
import com.webauthn4j.data.attestation.statement.COSEAlgorithmIdentifier;
import com.webauthn4j.data.client.challenge.DefaultChallenge;
import com.webauthn4j.server.ServerProperty;
import com.webauthn4j.verifier.attestation.statement.none.NoneAttestationStatementVerifier;
import com.webauthn4j.verifier.attestation.statement.packed.PackedAttestationStatementVerifier;
import com.webauthn4j.verifier.attestation.statement.u2f.FIDOU2FAttestationStatementVerifier;
import com.webauthn4j.verifier.attestation.trustworthiness.certpath.NullCertPathTrustworthinessVerifier;
import com.webauthn4j.verifier.attestation.trustworthiness.self.DefaultSelfAttestationTrustworthinessVerifier;
import com.webauthn4j.verifier.exception.BadAlgorithmException;
import com.webauthn4j.verifier.exception.BadChallengeException;
import com.webauthn4j.verifier.exception.BadOriginException;
import com.webauthn4j.verifier.exception.BadRpIdException;
import com.webauthn4j.verifier.exception.BadSignatureException;
import com.webauthn4j.verifier.exception.CrossOriginException;
import com.webauthn4j.verifier.exception.InconsistentClientDataTypeException;
import com.webauthn4j.verifier.exception.NotAllowedAlgorithmException;
import com.webauthn4j.verifier.exception.UserNotPresentException;
import com.webauthn4j.verifier.exception.VerificationException;
import dev.keyhold.custodian.signature.InvalidSignatureException;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * WebAuthn (passkey and security-key) credentials of custodians: the check of a registration made with
 * {@code navigator.credentials.create}, and of an assertion made with {@code navigator.credentials.get} over a
 * challenge Keyhold chose (for an approval: the SHA-256 of the statement's bytes).
 *
 * <p>A registration is checked by webauthn4j's registration manager: the client data (type {@code webauthn.create},
 * challenge, origin), the relying-party id hash, the user-present flag and the attestation statement's own signature. Attestation is not used to trust the authenticator (no trust anchors): "none" and self
 * attestation are what passkeys send, and the credential is trusted because the logged-in custodian enrolled it and
 * Keyhold sealed the binding. An assertion is checked with plain JCA, so stored evidence can be re-checked at any
 * time from the public key alone: the signature over {@code authenticatorData || SHA-256(clientDataJSON)}, the client
 * data's type ({@code webauthn.get}), challenge and origin, the relying-party id hash and the user-present flag. The
 * sign counter is not enforced: evidence is re-checked long after it was made, and passkeys synced between devices
 * report no counter.
 *
 * <p>Keys: ES256 (EC P-256, DER signatures as WebAuthn sends them), RS256 (RSA of at least 2,048 bits, PKCS#1 v1.5)
 * and EdDSA (Ed25519). Origins are exact ({@code https://keyhold.example.com}) or an entry ending in {@code :*}
 * ({@code http://localhost:*}), which allows that scheme and host on any port.
 *
 * <p>Every failure is an {@link InvalidSignatureException} whose message says which check failed and carries no key
 * material.
 */
public final class WebAuthnCredentials {

    /** What a checked registration enrolls: the credential id and public key (X.509 SubjectPublicKeyInfo), base64url. */
    public record Registered(String credentialId, String publicKeySpki, String algorithm /* ES256 | RS256 | EdDSA */) {}

    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();
    private static final int UP = 0x01;
    private static final int MIN_RSA_BITS = 2048;
    /** The authenticator data's fixed part: rpIdHash (32), flags (1), signCount (4). */
    private static final int AUTH_DATA_MIN = 37;

    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final List<PublicKeyCredentialParameters> ALGORITHMS = List.of(
            new PublicKeyCredentialParameters(PublicKeyCredentialType.PUBLIC_KEY, COSEAlgorithmIdentifier.ES256),
            new PublicKeyCredentialParameters(PublicKeyCredentialType.PUBLIC_KEY, COSEAlgorithmIdentifier.EdDSA),
            new PublicKeyCredentialParameters(PublicKeyCredentialType.PUBLIC_KEY, COSEAlgorithmIdentifier.RS256));
    /**
     * webauthn4j's registration manager with the attestation statements' own signatures checked: its ready-made
     * non-strict manager checks none of them ("Null" verifiers accept any signature), so a self attestation signed by
     * another key would pass. Formats: none, packed (self attestation, or with certificates whose chain is not
     * trusted: attestation does not decide trust here) and fido-u2f; others (tpm, android-key…) are refused, and do
     * not occur with attestation conveyance "none", which the console asks for.
     */
    private static final WebAuthnRegistrationManager REGISTRATIONS = new WebAuthnRegistrationManager(
            List.of(
                    new NoneAttestationStatementVerifier(),
                    new PackedAttestationStatementVerifier(),
                    new FIDOU2FAttestationStatementVerifier()),
            new NullCertPathTrustworthinessVerifier(),
            new DefaultSelfAttestationTrustworthinessVerifier(true));

    private static final ECParameterSpec P256 = p256();

    private WebAuthnCredentials() {}

    /**
     * Checks a registration (navigator.credentials.create) whose challenge must equal expectedChallenge.
     * Returns credentialId (base64url) and the credential public key as X.509 SubjectPublicKeyInfo (base64url).
     */
    public static Registered register(
            byte[] attestationObject,
            byte[] clientDataJSON,
            byte[] expectedChallenge,
            Set<String> origins,
            String rpId) {
        requireInputs(expectedChallenge, origins, rpId);
        if (attestationObject == null
                || attestationObject.length == 0
                || clientDataJSON == null
                || clientDataJSON.length == 0) {
            throw new InvalidSignatureException("the registration needs attestationObject and clientDataJSON");
        }
        // webauthn4j tells a cross-origin (iframe) registration apart only by a flag its checks tolerate: refuse here.
        JsonNode clientData = clientData(clientDataJSON);
        if (clientData.path("crossOrigin").asBoolean(false)) {
            throw new InvalidSignatureException(
                    "the registration was made inside a page of another origin (crossOrigin)");
        }
        ServerProperty server = ServerProperty.builder()
                .originPredicate(o -> originAllowed(o.toString(), origins))
                .rpId(rpId)
                .challenge(new DefaultChallenge(expectedChallenge.clone()))
                .build();
        RegistrationData data;
        try {
            data = REGISTRATIONS.verify(
                    new RegistrationRequest(attestationObject, clientDataJSON),
                    new RegistrationParameters(server, ALGORITHMS, false, true));
        } catch (VerificationException e) {
            throw new InvalidSignatureException(registrationRefusal(e));
        } catch (DataConversionException
                | IllegalArgumentException
                | IllegalStateException
                | UnsupportedOperationException e) {
            throw new InvalidSignatureException("the registration is malformed (attestationObject or clientDataJSON)");
        }
        AttestedCredentialData credential = data.getAttestationObject() == null
                        || data.getAttestationObject().getAuthenticatorData().getAttestedCredentialData() == null
                ? null
                : data.getAttestationObject().getAuthenticatorData().getAttestedCredentialData();
        if (credential == null
                || credential.getCOSEKey() == null
                || credential.getCredentialId() == null
                || credential.getCredentialId().length == 0) {
            throw new InvalidSignatureException("the registration carries no credential");
        }
        COSEKey cose = credential.getCOSEKey();
        PublicKey key;
        try {
            key = cose.getPublicKey();
        } catch (RuntimeException e) {
            key = null;
        }
        if (key == null) {
            throw new InvalidSignatureException("the registration's credential public key cannot be read");
        }
        String algorithm = algorithmOf(key);
        String declared = cose.getAlgorithm() == null ? null : coseName(cose.getAlgorithm());
        if (declared != null && !declared.equals(algorithm)) {
            throw new InvalidSignatureException("the credential's key type does not match its algorithm " + declared);
        }
        // The stored form must load back as the same key, so what is sealed is what later verifies.
        String spki = B64URL.encodeToString(key.getEncoded());
        algorithmOf(publicKey(spki));
        return new Registered(B64URL.encodeToString(credential.getCredentialId()), spki, algorithm);
    }

    /**
     * Checks an assertion: clientDataJSON type "webauthn.get", challenge == expectedChallenge, origin in origins,
     * rpIdHash == SHA-256(rpId), user-present flag, signature over authenticatorData || SHA-256(clientDataJSON).
     * Does not enforce the sign counter (evidence is re-checked later).
     */
    public static void verifyAssertion(
            String publicKeySpki,
            byte[] authenticatorData,
            byte[] clientDataJSON,
            byte[] signature,
            byte[] expectedChallenge,
            Set<String> origins,
            String rpId) {
        requireInputs(expectedChallenge, origins, rpId);
        if (authenticatorData == null || clientDataJSON == null || signature == null || signature.length == 0) {
            throw new InvalidSignatureException("the assertion needs authenticatorData, clientDataJSON and signature");
        }
        PublicKey key = publicKey(publicKeySpki);
        String algorithm = algorithmOf(key);

        JsonNode clientData = clientData(clientDataJSON);
        if (!"webauthn.get".equals(text(clientData, "type"))) {
            throw new InvalidSignatureException("the client data is not an assertion (type must be webauthn.get)");
        }
        byte[] challenge = base64url(text(clientData, "challenge"));
        if (challenge == null || !MessageDigest.isEqual(challenge, expectedChallenge)) {
            throw new InvalidSignatureException("the assertion answers another challenge");
        }
        String origin = text(clientData, "origin");
        if (origin == null || !originAllowed(origin, origins)) {
            throw new InvalidSignatureException("the assertion was made on an origin that is not allowed");
        }
        if (clientData.path("crossOrigin").asBoolean(false)) {
            throw new InvalidSignatureException("the assertion was made inside a page of another origin (crossOrigin)");
        }
        if (authenticatorData.length < AUTH_DATA_MIN) {
            throw new InvalidSignatureException("the authenticator data is too short");
        }
        if (!MessageDigest.isEqual(
                Arrays.copyOfRange(authenticatorData, 0, 32), sha256(rpId.getBytes(StandardCharsets.UTF_8)))) {
            throw new InvalidSignatureException("the assertion is for another relying party (rpIdHash)");
        }
        if ((authenticatorData[32] & UP) == 0) {
            throw new InvalidSignatureException("the authenticator did not report the user present (UP flag)");
        }
        boolean valid;
        try {
            Signature verifier = Signature.getInstance(jcaName(algorithm));
            verifier.initVerify(key);
            verifier.update(authenticatorData);
            verifier.update(sha256(clientDataJSON));
            valid = verifier.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            valid = false; // a malformed signature (bad DER, wrong length) is as invalid as a wrong one
        }
        if (!valid) {
            throw new InvalidSignatureException(
                    "the assertion's signature does not verify under the credential's public key");
        }
    }

    /**
     * Whether {@code origin} (as a browser serialises it: {@code scheme://host[:port]}) is allowed: equal to an entry,
     * or matching an entry {@code scheme://host:*} with any port or none.
     */
    static boolean originAllowed(String origin, Set<String> allowed) {
        if (origin == null || allowed == null) {
            return false;
        }
        for (String raw : allowed) {
            if (raw == null) {
                continue;
            }
            String entry = raw.strip();
            if (entry.endsWith("/")) {
                entry = entry.substring(0, entry.length() - 1);
            }
            if (entry.equals(origin)) {
                return true;
            }
            if (entry.endsWith(":*")) {
                String base = entry.substring(0, entry.length() - 2);
                if (origin.equals(base)) {
                    return true;
                }
                if (origin.startsWith(base + ":")) {
                    String port = origin.substring(base.length() + 1);
                    if (!port.isEmpty() && port.length() <= 5 && port.chars().allMatch(c -> c >= '0' && c <= '9')) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    private static void requireInputs(byte[] expectedChallenge, Set<String> origins, String rpId) {
        if (expectedChallenge == null || expectedChallenge.length < 16) {
            throw new IllegalArgumentException("an expected challenge of at least 16 bytes is required");
        }
        if (origins == null || origins.isEmpty() || rpId == null || rpId.isBlank()) {
            throw new IllegalArgumentException("the relying party's origins and id are required");
        }
    }

    private static JsonNode clientData(byte[] clientDataJSON) {
        JsonNode node;
        try {
            node = JSON.readTree(clientDataJSON);
        } catch (IOException | RuntimeException e) {
            node = null;
        }
        if (node == null || !node.isObject()) {
            throw new InvalidSignatureException("clientDataJSON is not a JSON object");
        }
        return node;
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v != null && v.isTextual() ? v.asText() : null;
    }

    private static byte[] base64url(String s) {
        if (s == null || s.isEmpty() || s.indexOf('=') >= 0) {
            return null;
        }
        try {
            return Base64.getUrlDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Reads a base64url X.509 SubjectPublicKeyInfo of an EC, RSA or Ed25519 key. */
    static PublicKey publicKey(String spki) {
        byte[] der = base64url(spki);
        if (der == null) {
            throw new InvalidSignatureException("the credential's public key is not base64url SubjectPublicKeyInfo");
        }
        for (String type : List.of("EC", "RSA", "Ed25519")) {
            try {
                return KeyFactory.getInstance(type).generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException | RuntimeException e) {
                // not this type: try the next
            }
        }
        throw new InvalidSignatureException("the credential's public key is not an EC, RSA or Ed25519 key");
    }

    /** ES256, RS256 or EdDSA for a key that fits one of them; anything else is refused. */
    static String algorithmOf(PublicKey key) {
        if (key instanceof ECPublicKey ec) {
            ECParameterSpec p = ec.getParams();
            if (p != null
                    && p.getCurve().equals(P256.getCurve())
                    && p.getOrder().equals(P256.getOrder())
                    && p.getGenerator().equals(P256.getGenerator())
                    && p.getCofactor() == P256.getCofactor()) {
                return "ES256";
            }
            throw new InvalidSignatureException("the credential's EC key is not on curve P-256 (ES256)");
        }
        if (key instanceof RSAPublicKey rsa) {
            if (rsa.getModulus().bitLength() < MIN_RSA_BITS
                    || rsa.getPublicExponent().compareTo(BigInteger.ONE) <= 0) {
                throw new InvalidSignatureException(
                        "the credential's RSA key is shorter than " + MIN_RSA_BITS + " bits");
            }
            return "RS256";
        }
        if (key instanceof EdECPublicKey ed) {
            if (ed.getParams() != null
                    && "Ed25519".equalsIgnoreCase(ed.getParams().getName())) {
                return "EdDSA";
            }
            throw new InvalidSignatureException("the credential's EdDSA key is not Ed25519");
        }
        throw new InvalidSignatureException("the credential's key type is not supported (ES256, RS256, EdDSA)");
    }

    private static String jcaName(String algorithm) {
        return switch (algorithm) {
            case "ES256" -> "SHA256withECDSA";
            case "RS256" -> "SHA256withRSA";
            case "EdDSA" -> "Ed25519";
            default -> throw new IllegalStateException(algorithm);
        };
    }

    private static String coseName(COSEAlgorithmIdentifier alg) {
        if (alg.equals(COSEAlgorithmIdentifier.ES256)) {
            return "ES256";
        }
        if (alg.equals(COSEAlgorithmIdentifier.RS256)) {
            return "RS256";
        }
        if (alg.equals(COSEAlgorithmIdentifier.EdDSA)) {
            return "EdDSA";
        }
        throw new InvalidSignatureException("the credential's algorithm is not supported (ES256, RS256, EdDSA)");
    }

    private static String registrationRefusal(VerificationException e) {
        if (e instanceof BadChallengeException) {
            return "the registration answers another challenge";
        }
        if (e instanceof BadOriginException || e instanceof CrossOriginException) {
            return "the registration was made on an origin that is not allowed";
        }
        if (e instanceof BadRpIdException) {
            return "the registration is for another relying party (rpIdHash)";
        }
        if (e instanceof UserNotPresentException) {
            return "the authenticator did not report the user present (UP flag)";
        }
        if (e instanceof InconsistentClientDataTypeException) {
            return "the client data is not a registration (type must be webauthn.create)";
        }
        if (e instanceof NotAllowedAlgorithmException || e instanceof BadAlgorithmException) {
            return "the credential's algorithm is not supported (ES256, RS256, EdDSA)";
        }
        if (e instanceof BadSignatureException) {
            return "the attestation signature does not verify";
        }
        return "the registration does not check out ("
                + e.getClass().getSimpleName().replace("Exception", "") + ")";
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ECParameterSpec p256() {
        try {
            AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
            p.init(new ECGenParameterSpec("secp256r1"));
            return p.getParameterSpec(ECParameterSpec.class);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
