package dev.keyhold.hsm;

/**
 * Any other failure of an HSM operation: the token is reachable and logged in, but refused or failed the
 * request (unsupported mechanism, template rejected, ...).
 */
public class HsmOperationException extends HsmException {

    public HsmOperationException(String partition, String message) {
        super(partition, message, null);
    }

    public HsmOperationException(String partition, String message, Throwable cause) {
        super(partition, message, cause);
    }
}
