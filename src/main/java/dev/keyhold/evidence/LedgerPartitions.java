package dev.keyhold.evidence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ledger's daily partitions (UTC days of a batch's {@code recorded_at}): {@code ledger_batch_pYYYYMMDD} and
 * {@code ledger_token_pYYYYMMDD}, made ahead of time by the maintenance job and on demand by the writer (tests move
 * the clock by days), dropped together once past the retention period.
 */
final class LedgerPartitions {

    static final String[] TABLES = {"ledger_batch", "ledger_token"};
    private static final DateTimeFormatter SUFFIX = DateTimeFormatter.ofPattern("yyyyMMdd");

    private final Set<LocalDate> known = ConcurrentHashMap.newKeySet();

    /** Makes the day's partitions unless this process knows they exist; its own short transaction (DDL). */
    void ensure(Connection c, LocalDate day) throws SQLException {
        if (known.contains(day)) {
            return;
        }
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(true);
        try (Statement s = c.createStatement()) {
            for (String t : TABLES) {
                try {
                    s.execute(
                            "create table if not exists " + name(t, day) + " partition of " + t + " for values from ('"
                                    + day + " 00:00:00+00') to ('" + day.plusDays(1) + " 00:00:00+00')");
                } catch (SQLException raced) {
                    // Another instance made it between our check and our create (PostgreSQL's IF NOT EXISTS is not
                    // atomic against a concurrent create): fine if it exists now.
                    if (!exists(c, name(t, day))) {
                        throw raced;
                    }
                }
            }
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
        for (LocalDate day : days(c)) {
            if (day.isBefore(firstKeptDay)) {
                try (Statement s = c.createStatement()) {
                    for (String t : TABLES) {
                        s.execute("drop table if exists " + name(t, day));
                    }
                }
                known.remove(day);
                dropped.add(day);
            }
        }
        return dropped;
    }

    /** The days that have partitions, oldest first. */
    static List<LocalDate> days(Connection c) throws SQLException {
        List<LocalDate> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select c.relname from pg_inherits i"
                        + " join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent"
                        + " where p.relname = 'ledger_batch' order by c.relname");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                String n = rs.getString(1);
                out.add(LocalDate.parse(n.substring(n.length() - 8), SUFFIX));
            }
        }
        return out;
    }

    static LocalDate dayOf(java.time.Instant t) {
        return LocalDate.ofInstant(t, ZoneOffset.UTC);
    }

    static String name(String table, LocalDate day) {
        return table + "_p" + SUFFIX.format(day);
    }

    private static boolean exists(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select to_regclass(?) is not null")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }
}
