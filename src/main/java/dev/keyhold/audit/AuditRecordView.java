package dev.keyhold.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import java.time.Instant;

/** An audit record on the wire. Carries the hashes so an auditor can re-check the chain offline. */
public record AuditRecordView(
        long seq,
        Instant time,
        String node,
        String actor,
        String action,
        String outcome,
        String issuerId,
        String kid,
        String requestId,
        JsonNode details,
        String prevHash,
        String hash) {

    private static final ObjectMapper JSON = new ObjectMapper();

    static AuditRecordView of(AuditRow r) {
        JsonNode details;
        try {
            details = JSON.readTree(r.detailsJson());
        } catch (JsonProcessingException e) {
            // A tampered row may hold anything; show it as text rather than failing the whole page.
            details = TextNode.valueOf(r.detailsJson());
        }
        return new AuditRecordView(
                r.seq(),
                r.recordedAt(),
                r.node(),
                r.actor(),
                r.action(),
                r.outcome(),
                r.issuerId(),
                r.kid(),
                r.requestId(),
                details,
                r.prevHash(),
                r.hash());
    }
}
