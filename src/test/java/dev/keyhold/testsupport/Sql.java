package dev.keyhold.testsupport;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;

/** Plain SQL against the test database, for arranging states and for tampering, bypassing Keyhold. */
@ApplicationScoped
public class Sql {

    @Inject
    AgroalDataSource ds;

    public int exec(String sql, Object... args) {
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new SqlFailure(e);
        }
    }

    public Object one(String sql, Object... args) {
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getObject(1) : null;
            }
        } catch (SQLException e) {
            throw new SqlFailure(e);
        }
    }

    /**
     * After a test edited an issuer's rows behind Keyhold's back (an approval written as rows): its next sweep asks
     * the planner again, as after the V10 backfill, instead of trusting the stored issuer.next_due_at.
     */
    public void replan(String issuerId) {
        exec("update issuer set next_due_at = ? where id = ?", Instant.EPOCH, issuerId);
    }

    public long count(String sql, Object... args) {
        return ((Number) one(sql, args)).longValue();
    }

    private static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            ps.setObject(i + 1, a instanceof Instant t ? Timestamp.from(t) : a);
        }
    }

    /** A refused statement, with PostgreSQL's SQLSTATE for the test to check. */
    public static class SqlFailure extends RuntimeException {
        public final String sqlState;

        SqlFailure(SQLException e) {
            super(e.getMessage(), e);
            this.sqlState = e.getSQLState();
        }
    }
}
