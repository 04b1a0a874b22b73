package dev.keyhold.evidence;

import io.smallrye.health.api.HealthGroup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
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
    CompromiseReportStore reports;

    @Inject
    Ledger ledger;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("evidence").up();
        try {
            long total = 0;
            int listed = 0;
            for (CompromiseReportStore.SuspectKey k : reports.suspectKeys()) {
                total += k.forgedTokens();
                if (listed++ < LISTED) {
                    b.withData(
                            "suspect." + k.kid(),
                            "issuer " + k.issuerId() + ", " + k.forgedTokens() + " forged token(s), last "
                                    + k.lastReportedAt());
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
