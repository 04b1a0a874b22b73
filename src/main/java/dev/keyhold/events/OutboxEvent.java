package dev.keyhold.events;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/**
 * One outbox row, and its CloudEvents 1.0 structured-mode JSON: {@code id} is the outbox sequence number,
 * {@code source} {@code /issuers/{id}}, {@code subject} the kid where there is one.
 */
public record OutboxEvent(
        long seq, String type, String source, String issuerId, String subject, Instant time, String dataJson) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public String toCloudEventJson() {
        ObjectNode e = JSON.createObjectNode();
        e.put("specversion", "1.0");
        e.put("id", Long.toString(seq));
        e.put("source", source);
        e.put("type", type);
        if (subject != null) {
            e.put("subject", subject);
        }
        e.put("time", time.toString());
        e.put("datacontenttype", "application/json");
        if (issuerId != null) {
            // extension attribute: lets consumers route without parsing source
            e.put("keyholdissuer", issuerId);
        }
        try {
            e.set("data", JSON.readTree(dataJson));
            return JSON.writeValueAsString(e);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("outbox event " + seq + " has invalid data", ex);
        }
    }
}
