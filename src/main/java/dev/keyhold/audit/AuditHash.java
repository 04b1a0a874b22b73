package dev.keyhold.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The audit chain's hash: SHA-256 over a canonical JSON array of the record's fields and the previous hash.
 * Canonical means fixed field order, map keys sorted, no insignificant white space, instants in ISO-8601 UTC.
 */
public final class AuditHash {

    /** prev_hash of the first record. */
    public static final String GENESIS = "0".repeat(64);

    private static final ObjectMapper CANONICAL = JsonMapper.builder()
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
            .build();

    private AuditHash() {}

    public static String canonicalJson(Object value) {
        try {
            return CANONICAL.writeValueAsString(value == null ? Map.of() : value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("audit details must be plain JSON values", e);
        }
    }

    public static String compute(
            long seq,
            Instant recordedAt,
            String node,
            String actor,
            String action,
            String outcome,
            String issuerId,
            String kid,
            String requestId,
            String detailsJson,
            String prevHash) {
        List<Object> fields = new ArrayList<>();
        fields.add(seq);
        fields.add(recordedAt.toString());
        fields.add(node);
        fields.add(actor);
        fields.add(action);
        fields.add(outcome);
        fields.add(issuerId);
        fields.add(kid);
        fields.add(requestId);
        fields.add(detailsJson);
        fields.add(prevHash);
        return sha256Hex(canonicalJson(fields));
    }

    /**
     * What an audit checkpoint signs: canonical JSON {"hash","keyId","node","seq","time"}. Here rather than in
     * {@link Checkpoints} so the offline verifier needs no Quarkus class.
     */
    public static byte[] checkpointBytes(long seq, String hash, Instant time, String node, String keyId) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("hash", hash);
        m.put("keyId", keyId);
        m.put("node", node);
        m.put("seq", seq);
        m.put("time", time.toString());
        return canonicalJson(m).getBytes(StandardCharsets.UTF_8);
    }

    static String sha256Hex(String s) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
