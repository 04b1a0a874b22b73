package dev.keyhold.domain;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

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
public final class CanonicalJson {

    static final long MAX_SAFE = (1L << 53) - 1;

    private CanonicalJson() {}

    public static String canonicalize(Object value) {
        StringBuilder sb = new StringBuilder();
        write(value, sb);
        return sb.toString();
    }

    private static void write(Object v, StringBuilder sb) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String s) {
            string(s, sb);
        } else if (v instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else if (v instanceof Integer
                || v instanceof Long
                || v instanceof Short
                || v instanceof Byte
                || v instanceof BigInteger) {
            BigInteger n = v instanceof BigInteger b ? b : BigInteger.valueOf(((Number) v).longValue());
            if (n.abs().compareTo(BigInteger.valueOf(MAX_SAFE)) > 0) {
                throw new IllegalArgumentException("integer outside ±2^53 cannot be canonicalized exactly: " + n);
            }
            sb.append(n);
        } else if (v instanceof Map<?, ?> m) {
            List<String> names = new ArrayList<>();
            for (Object k : m.keySet()) {
                if (!(k instanceof String s)) {
                    throw new IllegalArgumentException("object member names must be strings: " + k);
                }
                names.add(s);
            }
            names.sort(String::compareTo);
            sb.append('{');
            for (int i = 0; i < names.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                string(names.get(i), sb);
                sb.append(':');
                write(m.get(names.get(i)), sb);
            }
            sb.append('}');
        } else if (v instanceof Collection<?> c) {
            sb.append('[');
            boolean first = true;
            for (Object e : c) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                write(e, sb);
            }
            sb.append(']');
        } else {
            throw new IllegalArgumentException(
                    "not a canonicalizable JSON value: " + v.getClass().getSimpleName());
        }
    }

    private static void string(String s, StringBuilder sb) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else if (Character.isHighSurrogate(c)
                            && i + 1 < s.length()
                            && Character.isLowSurrogate(s.charAt(i + 1))) {
                        sb.append(c).append(s.charAt(++i));
                    } else if (Character.isSurrogate(c)) {
                        // I-JSON (RFC 7493), which JCS requires, forbids lone surrogates.
                        throw new IllegalArgumentException("lone surrogate at index " + i);
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
