package dev.keyhold.hsm;

/**
 * The partition name is not configured. A caller bug or a configuration drift, never an HSM fault.
 */
public class UnknownPartitionException extends HsmException {

    public UnknownPartitionException(String partition, String message) {
        super(partition, message, null);
    }

    public UnknownPartitionException(String partition, String message, Throwable cause) {
        super(partition, message, cause);
    }
}
