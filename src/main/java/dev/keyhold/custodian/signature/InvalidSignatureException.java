package dev.keyhold.custodian.signature;

/**
 * A signature or credential that does not check out. The message is short and safe to show to the caller: it
 * names what failed, never key material, signature bytes or the signed message.
 */
public class InvalidSignatureException extends RuntimeException {

    public InvalidSignatureException(String msg) {
        super(msg);
    }
}
