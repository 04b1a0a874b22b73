package dev.keyhold.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link AuditStore} is the only class that holds SQL for the audit aggregate's tables ({@code audit_record},
 * {@code audit_checkpoint}, {@code audit_key}): read from the string constants of the compiled main classes (see
 * {@link SqlOwnershipScan}); nested and lambda classes count as their outer class.
 */
class AuditStoreOwnershipTest {

    static final Set<String> TABLES = Set.of("audit_record", "audit_checkpoint", "audit_key");
    static final String STORE = "dev/keyhold/audit/AuditStore";

    /**
     * The known exceptions, each with its reason. Drop an entry once its class calls the store instead (an entry that
     * no longer applies does not fail this test, so check when switching).
     */
    static final Map<String, String> EXCEPTIONS = Map.of(
            "dev/keyhold/ops/OperationsMetrics",
            "reads the newest checkpoint's time and the oldest uncheckpointed record's time; to call"
                    + " AuditStore.checkpointCoverage() instead");

    @Test
    void onlyTheAuditStoreHoldsSqlOnTheAuditTables() throws IOException {
        Map<String, Set<String>> users = SqlOwnershipScan.users(TABLES);
        for (String table : TABLES) {
            assertTrue(
                    users.getOrDefault(table, Set.of()).contains(STORE),
                    "the scan does not see the store's SQL on " + table + ": the scan is broken");
        }
        assertEquals(
                List.of(),
                SqlOwnershipScan.violations(users, STORE, EXCEPTIONS.keySet()),
                "SQL on the audit tables outside " + STORE);
    }

    /** The scan sees SQL on each table in a nested class, as a constant and inside a concatenation. */
    @Test
    void theScanSeesAPlantedViolation() throws IOException {
        Map<String, Set<String>> planted = SqlOwnershipScan.users(Violations.class, TABLES);
        Set<String> self = Set.of("dev/keyhold/audit/AuditStoreOwnershipTest");
        assertEquals(Map.of("audit_record", self, "audit_checkpoint", self, "audit_key", self), planted);
        assertEquals(
                List.of(
                        "dev/keyhold/audit/AuditStoreOwnershipTest holds SQL on audit_checkpoint",
                        "dev/keyhold/audit/AuditStoreOwnershipTest holds SQL on audit_key",
                        "dev/keyhold/audit/AuditStoreOwnershipTest holds SQL on audit_record"),
                SqlOwnershipScan.violations(planted, STORE, EXCEPTIONS.keySet()));
    }

    @SuppressWarnings("unused")
    private static final class Violations {
        String record() {
            return "SELECT hash FROM audit_record WHERE seq = 1";
        }

        String checkpoint(long seq) {
            return "delete from audit_checkpoint where seq = " + seq; // a concatenation: invokedynamic's recipe
        }

        Runnable key() {
            return () -> System.out.println("update audit_key set public_jwk = '{}'"); // in a lambda
        }
    }
}
