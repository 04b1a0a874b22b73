package dev.keyhold.evidence;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ledger's daily partitions (UTC days of a batch's {@code recorded_at}): {@code ledger_batch_pYYYYMMDD} and
 * {@code ledger_token_pYYYYMMDD}, made ahead of time by the maintenance job and on demand by the writer (tests move
 * the clock by days), dropped together once past the retention period. This class keeps which days this process
 * knows exist; the DDL is {@link LedgerStore}'s.
 */
final class LedgerPartitions {

    private final Set<LocalDate> known = ConcurrentHashMap.newKeySet();

    /** Makes the day's partitions unless this process knows they exist; its own short transaction (DDL). */
    void ensure(Connection c, LocalDate day) throws SQLException {
        if (known.contains(day)) {
            return;
        }
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(true);
        try {
            LedgerStore.createDayPartitions(c, day);
        } finally {
            c.setAutoCommit(auto);
        }
        known.add(day);
    }

    /** Forget what we knew (a partition dropped by another instance, a failed insert). */
    void forget() {
        known.clear();
    }

    /** Drops every day wholly before {@code firstKeptDay}; returns the days dropped. */
    List<LocalDate> dropBefore(Connection c, LocalDate firstKeptDay) throws SQLException {
        List<LocalDate> dropped = new ArrayList<>();
        for (LocalDate day : LedgerStore.partitionDays(c)) {
            if (day.isBefore(firstKeptDay)) {
                LedgerStore.dropDayPartitions(c, day);
                known.remove(day);
                dropped.add(day);
            }
        }
        return dropped;
    }

    static LocalDate dayOf(java.time.Instant t) {
        return LocalDate.ofInstant(t, ZoneOffset.UTC);
    }
}
