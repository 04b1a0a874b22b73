package dev.keyhold.domain;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a transition asks to be recorded: the audit action, the key it concerns (or null), its details, and whether
 * it is announced on the event feed (an outbox event) or kept in the audit trail only. The actor is the caller's.
 */
public record DomainChange(String action, String kid, Map<String, Object> details, boolean announced) {

    public DomainChange {
        details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
    }

    public static DomainChange announced(String action, String kid, Map<String, Object> details) {
        return new DomainChange(action, kid, details, true);
    }

    public static DomainChange auditOnly(String action, String kid, Map<String, Object> details) {
        return new DomainChange(action, kid, details, false);
    }
}
