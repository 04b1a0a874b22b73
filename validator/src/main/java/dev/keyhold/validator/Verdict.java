package dev.keyhold.validator;

/**
 * The answer for one token: the same shape and reasons as Keyhold's {@code POST /v1/verify}, plus {@link #STALE}.
 * {@code reason} is null when valid; {@code iss} and {@code kid} echo the token (null when absent or unreadable).
 */
public record Verdict(boolean valid, String reason, String iss, String kid) {

    public static final String MALFORMED = "malformed";
    public static final String ISSUER_NOT_ALLOWED = "issuer_not_allowed";
    /** The validator has lost the event feed for longer than {@code maxStaleness} and cannot refresh the issuer. */
    public static final String STALE = "stale";

    public static final String KID_NOT_BOUND_TO_ISSUER = "kid_not_bound_to_issuer";
    public static final String KEY_NOT_USABLE = "key_not_usable";
    public static final String INVALID_SIGNATURE = "invalid_signature";
    public static final String AUDIENCE_NOT_ALLOWED = "audience_not_allowed";
    public static final String EXPIRED = "expired";

    static Verdict valid(String iss, String kid) {
        return new Verdict(true, null, iss, kid);
    }

    static Verdict invalid(String reason, String iss, String kid) {
        return new Verdict(false, reason, iss, kid);
    }
}
