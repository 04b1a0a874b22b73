package dev.keyhold.hsm;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalInt;

/**
 * HSM partitions: {@code keyhold.hsm.partitions.<name>.library|slot|slot-list-index|pin}.
 *
 * <p>An interface on purpose: there is no generated {@code toString} that could print the PIN. The PIN belongs
 * in an environment variable or a secret store (e.g. {@code KEYHOLD_HSM_PARTITIONS__DEFAULT__PIN}), never in
 * a properties file under version control.
 */
@ConfigMapping(prefix = "keyhold.hsm")
public interface HsmConfig {

    Map<String, Partition> partitions();

    /** In-process recovery of a PKCS#11 library whose sessions fail ({@link Pkcs11Module}). */
    Recovery recovery();

    interface Recovery {

        /** Wait before the first re-initialisation after a failure; doubled after each one. */
        @WithDefault("PT1S")
        Duration initialBackoff();

        /** Longest wait between re-initialisations. */
        @WithDefault("PT1M")
        Duration maxBackoff();

        /**
         * Failed re-initialisations in a row (the library itself refused C_Initialize or could not be reloaded)
         * after which liveness reports DOWN, so an orchestrator restarts the process. 0 = never.
         */
        @WithDefault("3")
        int livenessFailures();
    }

    interface Partition {

        /** Absolute path of the vendor's PKCS#11 library. */
        String library();

        /** The token's PKCS#11 slot ID. One of slot and slot-list-index selects the token. */
        OptionalInt slot();

        /** Index into the library's slot list; for HSMs whose slot IDs are not stable but whose order is. */
        OptionalInt slotListIndex();

        /** User PIN of the token (CKU_USER). */
        String pin();
    }
}
