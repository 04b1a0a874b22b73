package dev.keyhold.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link OutboxStore} is the only class that holds SQL for the outbox and relay aggregate's tables
 * ({@code outbox_event}, {@code relay_position}): the recorder appends, the feed and the relay read, and the relay
 * keeps its position, all through it. Read from the string constants of the compiled main classes (see
 * {@link SqlOwnershipScan}); nested and lambda classes count as their outer class. No exceptions.
 */
class OutboxStoreOwnershipTest {

    static final Set<String> TABLES = Set.of("outbox_event", "relay_position");
    static final String STORE = "dev/keyhold/audit/OutboxStore";

    @Test
    void onlyTheOutboxStoreHoldsSqlOnTheOutboxTables() throws IOException {
        Map<String, Set<String>> users = SqlOwnershipScan.users(TABLES);
        for (String table : TABLES) {
            assertTrue(
                    users.getOrDefault(table, Set.of()).contains(STORE),
                    "the scan does not see the store's SQL on " + table + ": the scan is broken");
        }
        assertEquals(
                List.of(),
                SqlOwnershipScan.violations(users, STORE, Set.of()),
                "SQL on the outbox tables outside " + STORE);
    }

    /** The scan sees SQL on each table in a nested class, as a constant and inside a concatenation. */
    @Test
    void theScanSeesAPlantedViolation() throws IOException {
        Map<String, Set<String>> planted = SqlOwnershipScan.users(Violations.class, TABLES);
        Set<String> self = Set.of("dev/keyhold/audit/OutboxStoreOwnershipTest");
        assertEquals(Map.of("outbox_event", self, "relay_position", self), planted);
        assertEquals(2, SqlOwnershipScan.violations(planted, STORE, Set.of()).size());
    }

    @SuppressWarnings("unused")
    private static final class Violations {
        String events(long seq) {
            return "select seq, type from outbox_event where seq > " + seq; // a concatenation: invokedynamic's recipe
        }

        String position() {
            return "insert into relay_position (name, last_seq, updated_at) values ('x', 0, now())";
        }
    }
}
