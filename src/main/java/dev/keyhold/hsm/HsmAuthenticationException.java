package dev.keyhold.hsm;

/**
 * The token refused the configured PIN (CKR_PIN_INCORRECT and friends). Not transient: retrying with the
 * same PIN only counts towards the token's lockout, so an operator must fix the secret.
 */
public class HsmAuthenticationException extends HsmException {

    public HsmAuthenticationException(String partition, String message) {
        super(partition, message, null);
    }

    public HsmAuthenticationException(String partition, String message, Throwable cause) {
        super(partition, message, cause);
    }
}
