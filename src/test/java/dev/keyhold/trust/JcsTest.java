package dev.keyhold.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JcsTest {

    @Test
    void sortsMembersByUtf16CodeUnitsAsInRfc8785() throws Exception {
        // RFC 8785 section 3.2.3: the sorting example.
        String input =
                "{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\","
                        + "\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\",\"\\u0080\":\"Control\","
                        + "\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}";
        Map<?, ?> parsed = new ObjectMapper().readValue(input, Map.class);
        String out = Jcs.canonicalize(parsed);
        assertThat(out)
                .isEqualTo("{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\","
                        + "\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\","
                        + "\"\ud83d\ude00\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}");
    }

    @Test
    void escapesStringsAsEcmascriptDoes() throws Exception {
        // RFC 8785 section 3.2.2.2 example string (without its numbers, which Keyhold never produces).
        String input =
                "{\"string\":\"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\"literals\":[null,true,false]}";
        Map<?, ?> parsed = new ObjectMapper().readValue(input, Map.class);
        assertThat(Jcs.canonicalize(parsed))
                .isEqualTo("{\"literals\":[null,true,false],\"string\":\"\u20ac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
    }

    @Test
    void nestedValuesKeepArrayOrderAndIntegersArePlain() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("b", List.of(3, 1, 2));
        m.put("a", Map.of("z", 1L, "y", -9007199254740991L));
        m.put("c", "\t\u0001\u001f\u007f");
        assertThat(Jcs.canonicalize(m))
                .isEqualTo("{\"a\":{\"y\":-9007199254740991,\"z\":1},\"b\":[3,1,2],\"c\":\"\\t\\u0001\\u001f\u007f\"}");
    }

    @Test
    void refusesWhatItCannotCanonicalizeExactly() {
        assertThatThrownBy(() -> Jcs.canonicalize(List.of(1.5))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Jcs.canonicalize(List.of(1L << 53))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Jcs.canonicalize(List.of("\ud800"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Jcs.canonicalize(Map.of(1, 2))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sameInputSameBytesWhateverTheMapOrder() {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("x", 1);
        a.put("y", 2);
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("y", 2);
        b.put("x", 1);
        assertThat(Jcs.canonicalize(a)).isEqualTo(Jcs.canonicalize(b));
    }
}
