package dev.keyhold.validator;

import java.time.Instant;
import java.util.List;

/**
 * What a validator given a trust anchor ({@link KeyholdValidator.Builder#trustAnchor}) holds for one issuer: the
 * last trust bundle it accepted and, if the newest one it was served was refused, why. A refused bundle changes
 * nothing: the validator keeps verifying with the last accepted one until that expires, after which the issuer's
 * tokens are {@code stale}.
 *
 * @param issuerId      the trusted issuer
 * @param sequence      the accepted bundle's sequence (0 before any)
 * @param expiresAt     the accepted bundle's exp (null before any)
 * @param anchorKids    the trust keys pinned now (after following any trust key takeover)
 * @param lastRefusal   the reason the latest bundle was refused (one of the constants here), null if it was not
 * @param refusalDetail what was wrong, for logs (null if nothing)
 * @param refusedAt     when the latest refusal happened (null if none)
 */
public record TrustBundleStatus(
        String issuerId,
        long sequence,
        Instant expiresAt,
        List<String> anchorKids,
        String lastRefusal,
        String refusalDetail,
        Instant refusedAt) {

    /** Not a readable trust bundle (not a JWS, wrong {@code typ}, no JSON payload, missing fields). */
    public static final String MALFORMED = "malformed";
    /** Signed by a key the validator has not pinned (and no pinned key vouched for it). */
    public static final String UNKNOWN_KEY = "unknown_key";
    /** Names a pinned key, but its signature does not verify. */
    public static final String BAD_SIGNATURE = "bad_signature";
    /** Another issuer's bundle ({@code sub}). */
    public static final String WRONG_ISSUER = "wrong_issuer";
    /** Past its {@code exp}: a freeze attack, or a Keyhold that stopped signing. */
    public static final String EXPIRED = "expired";
    /** A lower {@code sequence} than one already accepted: a rollback attack. */
    public static final String LOWER_SEQUENCE = "lower_sequence";
    /** The accepted sequence with other content: only iat and exp may change when a bundle is signed again. */
    public static final String SEQUENCE_REUSED = "sequence_reused";
}
