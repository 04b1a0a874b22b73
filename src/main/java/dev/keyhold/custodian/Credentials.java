package dev.keyhold.custodian;

import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.custodian.signature.InvalidSignatureException;
import dev.keyhold.custodian.ssh.SshPublicKey;
import dev.keyhold.custodian.ssh.SshSig;
import dev.keyhold.custodian.webauthn.WebAuthnCredentials;
import dev.keyhold.error.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Custodian credentials: enrollment challenges and sealed (principal, public key) bindings, stored in
 * {@code custodian_challenge} and {@code custodian_credential} through {@link CredentialStore}. A credential row
 * counts only if its seal, made by the HSM seal key when the custodian proved possession of the key while logged in,
 * verifies; a row written by anyone else is not a credential.
 */
@ApplicationScoped
public class Credentials {

    public static final String ENROLL_NAMESPACE = "keyhold-enroll";
    public static final Duration CHALLENGE_TTL = Duration.ofMinutes(5);
    static final int MAX_OPEN_CHALLENGES = 20;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Decoder B64URL = Base64.getUrlDecoder();

    @Inject
    CredentialStore store;

    @Inject
    Clock clock;

    @Inject
    Seal seal;

    @Inject
    ChangeRecorder recorder;

    @Inject
    WebAuthnSettings webauthn;

    public record Challenge(String id, String challenge, Instant expiresAt) {}

    /** One enrolled credential, as stored and sealed. */
    public record Credential(
            String id,
            String principal,
            String format,
            String publicKey,
            String credentialId,
            String algorithm,
            Instant enrolledAt,
            String seal) {

        /** The entry a policy document lists for it. */
        public Map<String, Object> policyEntry() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", id);
            m.put("format", format);
            m.put("publicKey", publicKey);
            if (credentialId != null) {
                m.put("credentialId", credentialId);
            }
            return m;
        }

        Map<String, Object> binding() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", "keyhold.credential.v1");
            m.put("principal", principal);
            m.put("format", format);
            m.put("id", id);
            m.put("publicKey", publicKey);
            m.put("credentialId", credentialId);
            m.put("enrolledAt", enrolledAt.toString());
            return m;
        }
    }

    /** A fresh single-use challenge for {@code principal} (5 minutes). */
    @Transactional
    public Challenge challenge(String principal) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        long open = store.openChallenges(principal, now);
        if (open >= MAX_OPEN_CHALLENGES) {
            throw ProblemException.conflict(
                    "too-many-challenges",
                    "at most " + MAX_OPEN_CHALLENGES + " open enrollment challenges per custodian; use one or wait "
                            + CHALLENGE_TTL.toMinutes() + " minutes");
        }
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        String text =
                "keyhold-enroll:" + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        UUID id = UUID.randomUUID();
        Instant expires = now.plus(CHALLENGE_TTL);
        store.insertEnrollChallenge(id, principal, text, now, expires);
        return new Challenge(id.toString(), text, expires);
    }

    /**
     * Enrolls a credential after checking that it signed one of the principal's open challenges ({@code challenge}
     * given: that one). 422 for a signature that does not check out (nothing stored), 409 for a key already enrolled.
     */
    @Transactional
    public Credential enroll(String principal, EnrollRequest body) {
        if (body == null || body.format() == null) {
            throw unprocessable("format: \"sshsig\" or \"webauthn\" is required");
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        List<CredentialStore.OpenChallenge> open = store.lockOpenEnrollChallenges(principal, now);
        if (body.challenge() != null) {
            open = open.stream()
                    .filter(ch -> ch.challenge().equals(body.challenge()))
                    .toList();
        }
        if (open.isEmpty()) {
            throw unprocessable("no open enrollment challenge: ask POST /v1/custodians/me/credentials/challenges first"
                    + " (a challenge is valid for " + CHALLENGE_TTL.toMinutes() + " minutes and once)");
        }
        Credential c = null;
        UUID used = null;
        for (CredentialStore.OpenChallenge ch : open) {
            try {
                c = check(principal, body, ch.challenge(), now);
                used = ch.id();
                break;
            } catch (InvalidSignatureException e) {
                if (open.size() == 1) {
                    throw unprocessable(
                            "the credential's signature over the challenge does not check out: " + e.getMessage());
                }
            }
        }
        if (c == null) {
            throw unprocessable("the credential's signature does not check out over any open challenge");
        }
        if (store.credentialExists(c.id())) {
            throw ProblemException.conflict("credential-exists", "credential " + c.id() + " is already enrolled");
        }
        String s = seal.seal(c.binding());
        store.markChallengeUsed(used, now);
        store.insertCredential(c, principal, now, s);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("credentialId", c.id());
        details.put("format", c.format());
        details.put("algorithm", c.algorithm());
        recorder.record(
                Change.auditOnly("custodian.credential-enrolled", principal, Change.SUCCESS, null, null, details));
        return new Credential(c.id(), principal, c.format(), c.publicKey(), c.credentialId(), c.algorithm(), now, s);
    }

    private Credential check(String principal, EnrollRequest body, String challenge, Instant now) {
        byte[] message = challenge.getBytes(StandardCharsets.UTF_8);
        switch (body.format()) {
            case "sshsig" -> {
                SshPublicKey key = SshPublicKey.parse(body.publicKey());
                SshSig.verify(key, ENROLL_NAMESPACE, message, body.signature());
                return new Credential(
                        key.fingerprint(), principal, "sshsig", key.canonical(), null, key.type(), now, null);
            }
            case "webauthn" -> {
                WebAuthnCredentials.Registered r = WebAuthnCredentials.register(
                        decode(body.attestationObject()),
                        decode(body.clientDataJSON()),
                        message,
                        webauthn.origins(),
                        webauthn.rpId());
                return new Credential(
                        "webauthn:" + r.credentialId(),
                        principal,
                        "webauthn",
                        r.publicKeySpki(),
                        r.credentialId(),
                        r.algorithm(),
                        now,
                        null);
            }
            default -> throw unprocessable("format: \"sshsig\" or \"webauthn\"");
        }
    }

    /** The principal's credentials whose seal verifies, oldest first. */
    @Transactional
    public List<Credential> sealed(String principal) {
        return rows(principal).stream().filter(this::sealOk).toList();
    }

    /** All rows of the principal, sealed or not. */
    @Transactional
    public List<Credential> rows(String principal) {
        return store.credentialsOf(principal);
    }

    /** Rows of these principals whose seal does not verify: a database write, never Keyhold's. */
    @Transactional
    public List<String> unsealed(java.util.Collection<String> principals) {
        List<String> bad = new ArrayList<>();
        for (String p : principals) {
            rows(p).stream().filter(c -> !sealOk(c)).forEach(c -> bad.add(c.id()));
        }
        return bad;
    }

    public boolean sealOk(Credential c) {
        return c.seal() != null && seal.seals(c.seal(), c.binding());
    }

    static byte[] decode(String b64url) {
        if (b64url == null) {
            throw new InvalidSignatureException("a base64url field is missing");
        }
        try {
            return B64URL.decode(b64url);
        } catch (IllegalArgumentException e) {
            throw new InvalidSignatureException("a field is not base64url");
        }
    }

    static ProblemException unprocessable(String detail) {
        return new ProblemException(422, "invalid-credential", "Unprocessable credential", detail, null);
    }
}
