package dev.keyhold.hsm;

import java.util.Map;

/**
 * PKCS#11 return values by number. The JDK's wrapper names them differently across releases (on Java 25
 * {@code PKCS11Exception.CKR_USER_ALREADY_LOGGED_IN} no longer exists, and a class compiled against 17 throws
 * {@code NoSuchFieldError} there), so Keyhold never refers to the wrapper's constants for return values: it
 * compares {@code getErrorCode()} with the numbers of the PKCS#11 standard, which do not change.
 */
final class Pkcs11Codes {

    static final long CKR_HOST_MEMORY = 0x02L;
    static final long CKR_SLOT_ID_INVALID = 0x03L;
    static final long CKR_GENERAL_ERROR = 0x05L;
    static final long CKR_FUNCTION_FAILED = 0x06L;
    static final long CKR_DEVICE_ERROR = 0x30L;
    static final long CKR_DEVICE_MEMORY = 0x31L;
    static final long CKR_DEVICE_REMOVED = 0x32L;
    static final long CKR_KEY_HANDLE_INVALID = 0x60L;
    static final long CKR_OBJECT_HANDLE_INVALID = 0x82L;
    static final long CKR_PIN_INCORRECT = 0xA0L;
    static final long CKR_PIN_INVALID = 0xA1L;
    static final long CKR_PIN_LEN_RANGE = 0xA2L;
    static final long CKR_PIN_EXPIRED = 0xA3L;
    static final long CKR_PIN_LOCKED = 0xA4L;
    static final long CKR_SESSION_CLOSED = 0xB0L;
    static final long CKR_SESSION_COUNT = 0xB1L;
    static final long CKR_SESSION_HANDLE_INVALID = 0xB3L;
    static final long CKR_TOKEN_NOT_PRESENT = 0xE0L;
    static final long CKR_TOKEN_NOT_RECOGNIZED = 0xE1L;
    static final long CKR_USER_ALREADY_LOGGED_IN = 0x100L;
    static final long CKR_USER_NOT_LOGGED_IN = 0x101L;
    static final long CKR_CRYPTOKI_NOT_INITIALIZED = 0x190L;
    static final long CKR_CRYPTOKI_ALREADY_INITIALIZED = 0x191L;

    private static final Map<Long, String> NAMES = Map.ofEntries(
            Map.entry(CKR_HOST_MEMORY, "CKR_HOST_MEMORY"),
            Map.entry(CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID"),
            Map.entry(CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"),
            Map.entry(CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"),
            Map.entry(CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"),
            Map.entry(CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY"),
            Map.entry(CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"),
            Map.entry(CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID"),
            Map.entry(CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"),
            Map.entry(CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"),
            Map.entry(CKR_PIN_INVALID, "CKR_PIN_INVALID"),
            Map.entry(CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE"),
            Map.entry(CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED"),
            Map.entry(CKR_PIN_LOCKED, "CKR_PIN_LOCKED"),
            Map.entry(CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED"),
            Map.entry(CKR_SESSION_COUNT, "CKR_SESSION_COUNT"),
            Map.entry(CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"),
            Map.entry(CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"),
            Map.entry(CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"),
            Map.entry(CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN"),
            Map.entry(CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"),
            Map.entry(CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"),
            Map.entry(CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED"));

    private Pkcs11Codes() {}

    /** The standard name of a return value, or {@code CKR_0x…} for one Keyhold does not name. */
    static String name(long code) {
        String n = NAMES.get(code);
        return n != null ? n : "CKR_0x" + Long.toHexString(code).toUpperCase(java.util.Locale.ROOT);
    }
}
