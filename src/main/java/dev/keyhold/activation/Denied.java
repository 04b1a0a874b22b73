package dev.keyhold.activation;

import dev.keyhold.error.ProblemException;
import java.util.Map;

/**
 * A 403 that must leave a trace: thrown inside the transaction that was about to act (so it rolls back), then
 * recorded by {@link Refusals} in a transaction of its own.
 */
public class Denied extends ProblemException {

    private final String action;
    private final String actor;
    private final String issuerId;
    private final String kid;
    private final Map<String, Object> details;

    public Denied(
            String action, String actor, String issuerId, String kid, Map<String, Object> details, String detail) {
        super(403, "forbidden", "Forbidden", detail, null);
        this.action = action;
        this.actor = actor;
        this.issuerId = issuerId;
        this.kid = kid;
        this.details = details == null ? Map.of() : Map.copyOf(details);
    }

    public String action() {
        return action;
    }

    public String actor() {
        return actor;
    }

    public String issuerId() {
        return issuerId;
    }

    public String kid() {
        return kid;
    }

    public Map<String, Object> details() {
        return details;
    }
}
