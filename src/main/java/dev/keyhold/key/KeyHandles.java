package dev.keyhold.key;

import java.security.SecureRandom;
import java.util.HexFormat;

/** HSM object handles (CKA_ID and label): issuer id plus randomness, so objects are traceable to their issuer. */
public final class KeyHandles {

    public static final String PREFIX = "kh-";
    private static final SecureRandom RANDOM = new SecureRandom();

    private KeyHandles() {}

    public static String next(String issuerId) {
        byte[] r = new byte[8];
        RANDOM.nextBytes(r);
        return PREFIX + issuerId + "-" + HexFormat.of().formatHex(r);
    }
}
