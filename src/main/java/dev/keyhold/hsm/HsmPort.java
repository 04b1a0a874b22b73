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

    /**
     * The public key of {@code handle}, read from its public object (the container certificate), so it stays readable
     * after {@link #destroyPrivate} removed the private half.
     *
     * @throws HsmObjectMissingException if the handle has no public object
     */
    PublicKey publicKey(String partition, String handle);

    /**
     * The public key of a key that can sign: like {@link #publicKey}, but its private key object must exist too (a key
     * about to be activated, a fixed-handle key Keyhold signs with).
     *
     * @throws HsmObjectMissingException if the handle has no private key object or no public object
     */
    PublicKey signingPublicKey(String partition, String handle);

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

    /**
     * Deletes only the private key object of {@code handle} (SPEC invariant 9: a key that can no longer sign keeps no
     * private key); its public object stays, so {@link #publicKey} keeps working and {@link #sign} then fails with
     * {@link HsmObjectMissingException}. Idempotent: a handle whose private object is already gone (or that does not
     * exist at all) is not an error.
     *
     * @return true when a private object was destroyed by this call, false when there was none
     */
    boolean destroyPrivate(String partition, String handle);

    /**
     * Stores {@code value} as a private token data object (CKO_DATA) labelled {@code label} in the partition,
     * replacing any earlier one of that label. Keyhold keeps small integrity anchors there (a policy chain head, the
     * audit checkpoint) that a database writer cannot reach.
     */
    void putData(String partition, String label, byte[] value);

    /** The value of the data object labelled {@code label}, if the partition holds one. */
    java.util.Optional<byte[]> getData(String partition, String label);

    /** All handles present in the partition's token (a private key or a public object), sorted. */
    List<String> list(String partition);

    /** The handles in the partition's token that still have a private key object, sorted. */
    List<String> listPrivate(String partition);

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
    record LibraryStatus(
            String library,
            java.util.List<String> partitions,
            long reinitialisations,
            int failedInARow,
            String lastFailure,
            java.time.Instant lastAttemptAt,
            boolean broken) {}
}
