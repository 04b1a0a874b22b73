package dev.keyhold.hsm;

import io.smallrye.config.ConfigMapping;

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
