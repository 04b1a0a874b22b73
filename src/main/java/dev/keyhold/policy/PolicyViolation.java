package dev.keyhold.policy;

/**
 * A finding of the integrity checks: stored state that Keyhold's own code cannot have written (a database write, a
 * rollback). {@code code} names the kind of finding; the message is safe to show (no key material).
 */
public class PolicyViolation extends RuntimeException {

    private final String code;

    public PolicyViolation(String code, String message) {
        super(message);
        this.code = code;
    }

    public String code() {
        return code;
    }
}
