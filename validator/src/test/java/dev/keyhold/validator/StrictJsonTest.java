package dev.keyhold.validator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StrictJsonTest {

    @Test
    void readsWhatRfc8259Allows() {
        assertEquals(
                Map.of("a", List.of(BigInteger.ONE, new BigDecimal("2.5"), "x\u00e9", Boolean.TRUE)),
                StrictJson.parse("{\"a\":[1, 2.5, \"x\\u00e9\", true]}"));
        assertEquals(StrictJson.NULL, ((Map<?, ?>) StrictJson.parse("{\"n\":null}")).get("n"));
    }

    @Test
    void refusesDuplicatesAtAnyDepthAndEverythingElseRfc8259Forbids() {
        for (String bad : List.of(
                "{\"a\":1,\"a\":2}",
                "{\"o\":{\"k\":1,\"k\":1}}",
                "[01]",
                "{\"a\":\"\u0001\"}",
                "{'a':1}",
                "{\"a\":1,}",
                "[1,]",
                "{\"a\":NaN}",
                "{\"a\":\"\\u00\uff10\uff10\"}",
                "",
                "{\"a\":tru}",
                "{\"a\":1",
                "[\"\\x\"]")) {
            assertThrows(IllegalArgumentException.class, () -> StrictJson.parse(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> StrictJson.parse(new byte[] {'"', (byte) 0xc3, '"'}));
    }
}
