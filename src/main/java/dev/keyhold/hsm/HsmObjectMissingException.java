package dev.keyhold.hsm;

/**
 * No key with the requested handle exists in the partition's token (never created, or destroyed).
 */
public class HsmObjectMissingException extends HsmException {

    public HsmObjectMissingException(String partition, String message) {
        super(partition, message, null);
    }

    public HsmObjectMissingException(String partition, String message, Throwable cause) {
        super(partition, message, cause);
    }
}
