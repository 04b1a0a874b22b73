package dev.keyhold.trust;

/**
 * RFC 8785 JSON Canonicalization Scheme for the JSON Keyhold itself produces: objects (maps with string keys),
 * arrays (collections), strings, booleans, null and integers. Members are sorted by their names' UTF-16 code units
 * (Java's {@link String#compareTo}), there is no white space, and strings are escaped exactly as ECMAScript's
 * {@code JSON.stringify} does.
 *
 * <p>Numbers: only integers within ±2^53 (where ECMAScript's number formatting is the plain decimal), which is all
 * a trust bundle holds (sequence, NumericDates, seconds). Anything else is refused rather than formatted in a way
 * another JCS implementation could disagree with.
 */
public final class Jcs {

    static final long MAX_SAFE = (1L << 53) - 1;

    private Jcs() {}

    /** RFC 8785 canonical JSON; the implementation is {@link dev.keyhold.domain.CanonicalJson}'s. */
    public static String canonicalize(Object value) {
        return dev.keyhold.domain.CanonicalJson.canonicalize(value);
    }
}
