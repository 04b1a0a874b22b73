package dev.keyhold.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.keyhold.store.SqlOwnership;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@code hsm_orphan} is named in SQL by {@link HsmOrphanStore} only. */
class HsmOrphanStoreOwnershipTest {

    static final String STORE = "dev/keyhold/lifecycle/HsmOrphanStore";

    @Test
    void onlyTheOrphanStoreHasSqlForHsmOrphans() throws IOException {
        SqlOwnership.assertOwned(Map.of("hsm_orphan", Set.of(STORE)), STORE, "hsm_orphan");
    }

    @Test
    void theScanSeesPlantedSql() throws IOException {
        assertEquals(
                Map.of("hsm_orphan", Set.of("dev/keyhold/lifecycle/HsmOrphanStoreOwnershipTest")),
                SqlOwnership.in(Violation.class, Set.of("hsm_orphan")));
    }

    @SuppressWarnings("unused")
    private static final class Violation {
        String sql() {
            return "DELETE FROM hsm_orphan WHERE partition_name = ?1";
        }
    }
}
