package dev.keyhold.custodian;

/** A signature or credential that does not check out; message is safe to show to the caller (no key material). */
public class InvalidSignatureException extends RuntimeException {

    public InvalidSignatureException(String msg) {
        super(msg);
    }
}
