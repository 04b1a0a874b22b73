package dev.keyhold.evidence;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * The evidence reports' store: the only class with SQL on {@code compromise_report}, one row per forged token (by
 * its SHA-256) with its first report and how often it was reported. Rows are read by column name.
 */
@ApplicationScoped
public class CompromiseReportStore {

    @Inject
    EntityManager em;

    @Inject
    AgroalDataSource ds;

    /** The forged tokens reported for one key: how many, and when the newest of them was first reported. */
    public record SuspectKey(String issuerId, String kid, long forgedTokens, Instant lastReportedAt) {}

    /**
     * Records a report of the forged token {@code tokenSha256}, in the caller's transaction: true when it is the
     * token's first report (a row is made); false when it was reported before (its count goes up by one).
     */
    public boolean report(byte[] tokenSha256, String issuerId, String kid, Instant at, String reporter) {
        int inserted = em.createNativeQuery("insert into compromise_report (token_sha256, issuer_id, kid,"
                        + " first_reported_at, first_reporter, reports) values (?1, ?2, ?3, ?4, ?5, 1)"
                        + " on conflict (token_sha256) do nothing")
                .setParameter(1, tokenSha256)
                .setParameter(2, issuerId)
                .setParameter(3, kid)
                .setParameter(4, Timestamp.from(at))
                .setParameter(5, reporter)
                .executeUpdate();
        if (inserted == 0) {
            em.createNativeQuery("update compromise_report set reports = reports + 1 where token_sha256 = ?1")
                    .setParameter(1, tokenSha256)
                    .executeUpdate();
            return false;
        }
        return true;
    }

    /** Every key with forged tokens reported, the most recently first reported first (outside any transaction). */
    public List<SuspectKey> suspectKeys() throws SQLException {
        List<SuspectKey> out = new ArrayList<>();
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement("select issuer_id, kid, count(*) as forged_tokens,"
                        + " max(first_reported_at) as last_reported_at from compromise_report group by issuer_id, kid"
                        + " order by max(first_reported_at) desc");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new SuspectKey(
                        rs.getString("issuer_id"),
                        rs.getString("kid"),
                        rs.getLong("forged_tokens"),
                        rs.getObject("last_reported_at", OffsetDateTime.class).toInstant()));
            }
        }
        return out;
    }
}
