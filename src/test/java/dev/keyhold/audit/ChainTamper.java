package dev.keyhold.audit;

import io.agroal.api.AgroalDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Tampering with the shared audit table, safely for the other tests of the JVM: holds the chain's advisory lock for
 * its whole life on its own connection, so no change can be recorded (and no checkpoint taken) while the table is
 * tampered with, saves the rows it will touch in a temporary table, and puts them back exactly on close.
 */
final class ChainTamper implements AutoCloseable {

    private final Connection c;
    private final long from;
    private final long to;

    ChainTamper(AgroalDataSource ds, long from, long to) throws SQLException {
        this.c = ds.getConnection();
        this.from = from;
        this.to = to;
        exec("select pg_advisory_lock(?)", ChangeRecorder.CHAIN_LOCK);
        exec("create temp table saved_audit as select * from audit_record where seq between ? and ?", from, to);
        exec("create temp table saved_checkpoint as select * from audit_checkpoint");
        exec("create temp table saved_key as select * from audit_key");
    }

    int exec(String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            if (ps.execute()) {
                return 0;
            }
            return ps.getUpdateCount();
        }
    }

    long head() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select max(seq) as head from audit_record");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong("head");
        }
    }

    List<AuditRow> rows(long fromSeq, long toSeq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "select " + AuditStore.COLUMNS + " from audit_record where seq between ? and ? order by seq")) {
            ps.setLong(1, fromSeq);
            ps.setLong(2, toSeq);
            List<AuditRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(AuditStore.row(rs));
                }
            }
            return rows;
        }
    }

    /** Puts every saved row back as it was. */
    void restore() throws SQLException {
        exec("delete from audit_record where seq between ? and ?", from, to);
        exec("insert into audit_record select * from saved_audit");
        exec("delete from audit_checkpoint");
        exec("insert into audit_checkpoint select * from saved_checkpoint");
        exec("update audit_key k set public_jwk = s.public_jwk from saved_key s where s.kid = k.kid");
    }

    @Override
    public void close() throws SQLException {
        try {
            restore();
            exec("drop table saved_audit");
            exec("drop table saved_checkpoint");
            exec("drop table saved_key");
        } finally {
            try {
                exec("select pg_advisory_unlock(?)", ChangeRecorder.CHAIN_LOCK);
            } finally {
                c.close();
            }
        }
    }
}
