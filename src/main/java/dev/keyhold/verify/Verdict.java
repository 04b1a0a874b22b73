package dev.keyhold.verify;

/**
 * The reference validator's answer. {@code reason} is null when valid; {@code iss} and {@code kid} echo the
 * token's claims (null when absent or unparseable).
 */
public record Verdict(boolean valid, String reason, String iss, String kid) {

    public static final String MALFORMED = "malformed";
    public static final String ISSUER_NOT_ALLOWED = "issuer_not_allowed";
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
