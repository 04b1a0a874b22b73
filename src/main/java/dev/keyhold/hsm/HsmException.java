package dev.keyhold.hsm;

/**
 * Every failure that crosses the {@link HsmPort} boundary. The adapter catches everything the PKCS#11 stack
 * throws and wraps it exactly once into one of the subclasses, so callers choose a reaction by type
 * (retry later, alert an operator, treat the key as gone) instead of by parsing provider messages.
 *
 * <p>Messages name the partition and the operation, never a PIN; the original exception is kept as the cause.
 */
public abstract class HsmException extends RuntimeException {

    private final String partition;

    protected HsmException(String partition, String message, Throwable cause) {
        super(message, cause);
        this.partition = partition;
    }

    /** The configured partition the failed operation addressed. */
    public String partition() {
        return partition;
    }
}
