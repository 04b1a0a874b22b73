package dev.keyhold.validator;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON reader that is as strict as Keyhold's own verifier: an object member that appears twice makes the
 * whole document unreadable (a token whose header says {@code "alg":"ES256","alg":"none"} means different things to
 * different parsers), as do invalid UTF-8, control characters in strings, leading zeros and anything else RFC 8259
 * forbids. What follows the first value is ignored, as the server's parser ignores it.
 *
 * <p>Values: {@link Map} (insertion order), {@link List}, {@link String}, {@link BigInteger} (integral numbers),
 * {@link BigDecimal} (other numbers), {@link Boolean}, and {@link #NULL}.
 */
final class StrictJson {

    /** JSON {@code null}, so that a member set to null is told apart from a missing one. */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    private static final int MAX_DEPTH = 64;

    private final String s;
    private int i;

    private StrictJson(String s) {
        this.s = s;
    }

    /** Parses UTF-8 bytes; throws {@link IllegalArgumentException} on anything that is not valid JSON. */
    static Object parse(byte[] utf8) {
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(utf8))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not UTF-8");
        }
        return parse(text);
    }

    static Object parse(String text) {
        StrictJson p = new StrictJson(text);
        p.ws();
        if (p.i >= text.length()) {
            throw new IllegalArgumentException("empty");
        }
        return p.value(0);
    }

    private Object value(int depth) {
        if (depth > MAX_DEPTH) {
            throw fail("too deep");
        }
        ws();
        if (i >= s.length()) {
            throw fail("unexpected end");
        }
        char c = s.charAt(i);
        switch (c) {
            case '{':
                return object(depth);
            case '[':
                return array(depth);
            case '"':
                return string();
            case 't':
                literal("true");
                return Boolean.TRUE;
            case 'f':
                literal("false");
                return Boolean.FALSE;
            case 'n':
                literal("null");
                return NULL;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw fail("unexpected character");
        }
    }

    private Map<String, Object> object(int depth) {
        i++; // {
        Map<String, Object> m = new LinkedHashMap<>();
        ws();
        if (peek() == '}') {
            i++;
            return m;
        }
        while (true) {
            ws();
            if (peek() != '"') {
                throw fail("member name expected");
            }
            String name = string();
            ws();
            expect(':');
            Object v = value(depth + 1);
            if (m.putIfAbsent(name, v) != null) {
                throw fail("duplicate member");
            }
            ws();
            char c = next();
            if (c == '}') {
                return m;
            }
            if (c != ',') {
                throw fail("',' or '}' expected");
            }
        }
    }

    private List<Object> array(int depth) {
        i++; // [
        List<Object> l = new ArrayList<>();
        ws();
        if (peek() == ']') {
            i++;
            return l;
        }
        while (true) {
            l.add(value(depth + 1));
            ws();
            char c = next();
            if (c == ']') {
                return l;
            }
            if (c != ',') {
                throw fail("',' or ']' expected");
            }
        }
    }

    private String string() {
        i++; // opening quote
        StringBuilder b = new StringBuilder();
        while (true) {
            char c = next();
            if (c == '"') {
                return b.toString();
            }
            if (c < 0x20) {
                throw fail("control character in string");
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = next();
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    if (i + 4 > s.length()) {
                        throw fail("bad escape");
                    }
                    int cp = 0;
                    for (int k = 0; k < 4; k++) {
                        char h = s.charAt(i++);
                        int d = h < 128 ? Character.digit(h, 16) : -1;
                        if (d < 0) {
                            throw fail("bad escape");
                        }
                        cp = cp * 16 + d;
                    }
                    b.append((char) cp);
                }
                default -> throw fail("bad escape");
            }
        }
    }

    private Object number() {
        int start = i;
        if (peek() == '-') {
            i++;
        }
        if (peek() == '0') {
            i++;
            if (digit(peek())) {
                throw fail("leading zero");
            }
        } else if (digit(peek())) {
            digits();
        } else {
            throw fail("digit expected");
        }
        boolean integral = true;
        if (peek() == '.') {
            integral = false;
            i++;
            if (!digit(peek())) {
                throw fail("digit expected");
            }
            digits();
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            i++;
            if (peek() == '+' || peek() == '-') {
                i++;
            }
            if (!digit(peek())) {
                throw fail("digit expected");
            }
            digits();
        }
        String n = s.substring(start, i);
        return integral ? new BigInteger(n) : new BigDecimal(n);
    }

    private void digits() {
        while (digit(peek())) {
            i++;
        }
    }

    private static boolean digit(char c) {
        return c >= '0' && c <= '9';
    }

    private void literal(String word) {
        if (!s.startsWith(word, i)) {
            throw fail("bad literal");
        }
        i += word.length();
    }

    private void expect(char c) {
        if (next() != c) {
            throw fail("'" + c + "' expected");
        }
    }

    private char peek() {
        return i < s.length() ? s.charAt(i) : '\0';
    }

    private char next() {
        if (i >= s.length()) {
            throw fail("unexpected end");
        }
        return s.charAt(i++);
    }

    private void ws() {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                i++;
            } else {
                return;
            }
        }
    }

    private IllegalArgumentException fail(String what) {
        return new IllegalArgumentException(what + " at " + i);
    }
}
