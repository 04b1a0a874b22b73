package dev.keyhold.audit;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;

/**
 * Read side of the audit trail. Keyset paging on seq: every filter has an index ending in seq (V1, V3), so a page is
 * one index range scan however deep the caller has paged. Plain JDBC: read-only, and no entity is involved.
 */
@ApplicationScoped
public class AuditQueryService {

    @Inject
    AgroalDataSource ds;

    public AuditPage find(AuditQuery q) {
        StringBuilder sql = new StringBuilder("select " + AuditRow.COLUMNS + " from audit_record where seq > ?");
        List<Object> args = new ArrayList<>();
        args.add(q.after());
        filter(sql, args, "issuer_id", q.issuerId());
        filter(sql, args, "kid", q.kid());
        filter(sql, args, "actor", q.actor());
        filter(sql, args, "action", q.action());
        if (q.from() != null) {
            sql.append(" and recorded_at >= ?");
            args.add(Timestamp.from(q.from()));
        }
        if (q.to() != null) {
            sql.append(" and recorded_at < ?");
            args.add(Timestamp.from(q.to()));
        }
        // One more than asked tells whether another page exists without a count.
        sql.append(" order by seq limit ?");
        args.add(q.limit() + 1);
        List<AuditRow> rows = query(sql.toString(), args);
        boolean more = rows.size() > q.limit();
        List<AuditRecordView> page = rows.stream().limit(q.limit()).map(AuditRecordView::of).toList();
        return new AuditPage(page, more ? page.get(page.size() - 1).seq() : null);
    }

    /** Every record naming the kid, oldest first. A key has a handful, so no paging. */
    public List<AuditRecordView> history(String kid) {
        return query("select " + AuditRow.COLUMNS + " from audit_record where kid = ? order by seq", List.of(kid))
                .stream().map(AuditRecordView::of).toList();
    }

    private static void filter(StringBuilder sql, List<Object> args, String column, String value) {
        if (value != null) {
            sql.append(" and ").append(column).append(" = ?");
            args.add(value);
        }
    }

    private List<AuditRow> query(String sql, List<Object> args) {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            List<AuditRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(AuditRow.read(rs));
                }
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException("audit query failed", e);
        }
    }
}
