package dev.keyhold.hsm;

import dev.keyhold.domain.SigningAlgorithm;
import java.security.PublicKey;
import java.util.List;
import java.util.Set;

/**
 * The narrow port to the HSM: everything Keyhold does with private keys goes through these methods, and no
 * method ever returns private key material.
 *
 * <p>A partition is one configured PKCS#11 token; issuers that must fail independently use different
 * partitions. A handle is the key's name inside its token (the PKCS#11 CKA_ID and KeyStore alias).
 *
 * <p>HSM failures surface only as {@link HsmException} subtypes, each naming the partition. Invalid arguments
 * (null, blank handle, an algorithm that does not fit the key) are caller bugs and throw
 * {@link IllegalArgumentException} or {@link NullPointerException} before the HSM is touched.
 * Implementations are thread-safe.
 */
public interface HsmPort {

    /**
     * Generates a sign-only key pair as token objects under {@code handle}: the private key is sensitive,
     * never extractable and cannot decrypt or unwrap.
     *
     * @throws IllegalArgumentException if the partition already holds {@code handle}
     */
    PublicKey generate(String partition, String handle, SigningAlgorithm alg);

    /**
     * Signs {@code data} inside the token and returns the signature in its JWS form: R‖S of fixed length for
     * ECDSA (RFC 7518 §3.4), the raw PKCS#1 / PSS signature for RSA.
     *
     * @throws HsmObjectMissingException if the handle does not exist
     * @throws IllegalArgumentException if {@code alg} does not match the key's type or curve
     */
    byte[] sign(String partition, String handle, SigningAlgorithm alg, byte[] data);

    /** @throws HsmObjectMissingException if the handle does not exist */
    PublicKey publicKey(String partition, String handle);

    /**
     * The public key of the fixed-handle key {@code handle} (Keyhold's own audit and trust keys), generating it first
     * when the token has none; when another instance generates it between the two calls, its key is the one returned.
     */
    default PublicKey publicKeyOrGenerate(String partition, String handle, SigningAlgorithm alg) {
        try {
            return publicKey(partition, handle);
        } catch (HsmObjectMissingException missing) {
            try {
                return generate(partition, handle, alg);
            } catch (IllegalArgumentException raced) {
                return publicKey(partition, handle);
            }
        }
    }

    /** Deletes the key pair and its certificate from the token. @throws HsmObjectMissingException if absent */
    void destroy(String partition, String handle);

    /** All handles present in the partition's token, sorted. */
    List<String> list(String partition);

    /** The configured partition names. Does not touch any HSM. */
    Set<String> partitions();

    /**
     * Cheap liveness probe for readiness: connects if needed and verifies the token session is logged in.
     * Returns normally when the partition is usable.
     */
    void check(String partition);

    /**
     * The PKCS#11 libraries behind the partitions and their in-process recovery (re-initialisation) state, for
     * health checks. Does not touch any HSM.
     */
    default java.util.List<LibraryStatus> libraries() {
        return java.util.List.of();
    }

    /**
     * One loaded PKCS#11 library. {@code broken}: re-initialising it failed too often in a row; only a restart of
     * the process can help.
     */
    record LibraryStatus(String library, java.util.List<String> partitions, long reinitialisations,
                         int failedInARow, String lastFailure, java.time.Instant lastAttemptAt, boolean broken) {
    }
}
