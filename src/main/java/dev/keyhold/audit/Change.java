package dev.keyhold.audit;

import java.util.Map;

/**
 * One state change to record: an audit record always, and an outbox event when {@code eventType} is set.
 * {@code details} and {@code eventData} must never hold key material or PINs.
 */
public record Change(
        String action,
        String actor,
        String outcome,
        String issuerId,
        String kid,
        Map<String, Object> details,
        String eventType,
        Map<String, Object> eventData) {

    public static final String SUCCESS = "success";
    public static final String DENIED = "denied";

    /** A successful change announced as {@code keyhold.<action>} with the details as event data. */
    public static Change announced(
            String action, String actor, String issuerId, String kid, Map<String, Object> details) {
        return new Change(action, actor, SUCCESS, issuerId, kid, details, "keyhold." + action, details);
    }

    /** A domain transition's change, made by {@code actor} for {@code issuerId}, with the outcome success. */
    public static Change of(dev.keyhold.domain.DomainChange c, String actor, String issuerId) {
        return c.announced()
                ? announced(c.action(), actor, issuerId, c.kid(), c.details())
                : auditOnly(c.action(), actor, SUCCESS, issuerId, c.kid(), c.details());
    }

    /** A change recorded in the audit trail only. */
    public static Change auditOnly(
            String action, String actor, String outcome, String issuerId, String kid, Map<String, Object> details) {
        return new Change(action, actor, outcome, issuerId, kid, details, null, null);
    }
}
