package dev.keyhold.evidence;

import io.agroal.api.AgroalDataSource;
import io.smallrye.health.api.HealthGroup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

/**
 * The evidence state in the health groups {@code evidence} and {@code operations} (not readiness), check {@code evidence}. Always UP (a suspected compromise is an
 * incident for people, not a reason to take the instance out of the load balancer): data {@code compromiseSuspected}
 * (forged tokens reported, all time), one {@code suspect.<kid>} entry per key with its count and last report, and the
 * ledger writer's state ({@code ledgerPending}, {@code ledgerLost}, {@code ledgerLastError}). Alert on
 * {@code keyhold_evidence_compromise_suspected_total}.
 */
@HealthGroup("evidence")
@HealthGroup("operations")
@ApplicationScoped
public class EvidenceHealth implements HealthCheck {

    static final int LISTED = 20;

    @Inject
    AgroalDataSource ds;

    @Inject
    Ledger ledger;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("evidence").up();
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement("select issuer_id, kid, count(*), max(first_reported_at)"
                        + " from compromise_report group by issuer_id, kid order by max(first_reported_at) desc");
                ResultSet rs = ps.executeQuery()) {
            long total = 0;
            int listed = 0;
            while (rs.next()) {
                total += rs.getLong(3);
                if (listed++ < LISTED) {
                    b.withData(
                            "suspect." + rs.getString(2),
                            "issuer " + rs.getString(1) + ", " + rs.getLong(3) + " forged token(s), last "
                                    + rs.getObject(4, java.time.OffsetDateTime.class)
                                            .toInstant());
                }
            }
            b.withData("compromiseSuspected", total);
        } catch (SQLException e) {
            b.withData("compromiseSuspected", "unknown (database unavailable)");
        }
        IssuanceLedger l = ledger.ledger();
        b.withData("ledgerPending", l.pending());
        b.withData("ledgerLost", l.lost());
        if (l.lastError() != null) {
            b.withData("ledgerLastError", l.lastError());
        }
        return b.build();
    }
}
