package dev.keyhold.hsm;

/**
 * The partition's token cannot be used right now: library not loadable, slot or token absent, device
 * error, lost session. Transient from the caller's view: readiness reports it and a later call reconnects.
 */
public class HsmUnavailableException extends HsmException {

    public HsmUnavailableException(String partition, String message) {
        super(partition, message, null);
    }

    public HsmUnavailableException(String partition, String message, Throwable cause) {
        super(partition, message, cause);
    }
}
