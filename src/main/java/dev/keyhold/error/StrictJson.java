package dev.keyhold.error;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;
import java.io.IOException;

/**
 * Request bodies mean exactly what they say, or they are refused with 400: a duplicate member is an
 * error, not "the last one wins" (a decision {@code {"decision":"reject","decision":"approve"}} must not be recorded
 * as approve); no lossy or textual coercion ({@code 2.9} or {@code "3"} for an integer); no number that overflows to
 * infinity ({@code 1e400} would be signed as the string "Infinity").
 */
@Singleton
public class StrictJson implements ObjectMapperCustomizer {

    @Override
    public void customize(ObjectMapper mapper) {
        apply(mapper);
    }

    /** The same rules for mappers made outside CDI. */
    public static ObjectMapper apply(ObjectMapper mapper) {
        mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        mapper.disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
        mapper.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        mapper.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        mapper.configure(MapperFeature.ALLOW_COERCION_OF_SCALARS, false);
        for (LogicalType t :
                new LogicalType[] {LogicalType.Integer, LogicalType.Float, LogicalType.Boolean, LogicalType.Textual}) {
            mapper.coercionConfigFor(t)
                    .setCoercion(
                            CoercionInputShape.String,
                            t == LogicalType.Textual ? CoercionAction.TryConvert : CoercionAction.Fail)
                    .setCoercion(
                            CoercionInputShape.Float,
                            t == LogicalType.Float ? CoercionAction.TryConvert : CoercionAction.Fail)
                    .setCoercion(
                            CoercionInputShape.Integer,
                            t == LogicalType.Integer || t == LogicalType.Float
                                    ? CoercionAction.TryConvert
                                    : CoercionAction.Fail)
                    .setCoercion(
                            CoercionInputShape.Boolean,
                            t == LogicalType.Boolean ? CoercionAction.TryConvert : CoercionAction.Fail);
        }
        mapper.registerModule(new SimpleModule("keyhold-finite-numbers")
                .addDeserializer(Number.class, new FiniteNumber())
                .addDeserializer(String.class, new WellFormedString()));
        return mapper;
    }

    /**
     * Numbers in untyped values (a token's claims): exact integers as parsed, decimals as doubles, refused when they
     * do not fit a double. The untyped deserializer uses a custom {@code Number} deserializer for every number.
     */
    static final class FiniteNumber extends StdDeserializer<Number> {

        FiniteNumber() {
            super(Number.class);
        }

        @Override
        public Number deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.currentToken() == JsonToken.VALUE_NUMBER_INT) {
                return p.getNumberValue();
            }
            if (p.currentToken() == JsonToken.VALUE_NUMBER_FLOAT) {
                double d = p.getDoubleValue();
                if (!Double.isFinite(d)) {
                    return (Number) ctxt.handleWeirdNumberValue(Number.class, d, "number out of range");
                }
                return ctxt.isEnabled(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS) ? p.getDecimalValue() : d;
            }
            return (Number) ctxt.handleUnexpectedToken(Number.class, p);
        }
    }

    /**
     * Strings must be well-formed Unicode: a lone surrogate (JSON allows {@code "\ud800"}) can be neither stored as
     * UTF-8 nor canonicalised (RFC 8785), so it is bad input (400) here rather than a failure deep in a change.
     */
    static final class WellFormedString extends StdDeserializer<String> {

        WellFormedString() {
            super(String.class);
        }

        @Override
        public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String v = com.fasterxml.jackson.databind.deser.std.StringDeserializer.instance.deserialize(p, ctxt);
            if (v != null) {
                for (int i = 0; i < v.length(); i++) {
                    char c = v.charAt(i);
                    if (Character.isHighSurrogate(c)
                            && i + 1 < v.length()
                            && Character.isLowSurrogate(v.charAt(i + 1))) {
                        i++;
                    } else if (Character.isSurrogate(c)) {
                        return (String) ctxt.handleWeirdStringValue(String.class, v, "lone surrogate in a string");
                    }
                }
            }
            return v;
        }
    }
}
