package dev.keyhold.lifecycle;

import com.nimbusds.jose.jwk.JWK;
import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.PublicJwks;
import dev.keyhold.hsm.SunPkcs11Hsm;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Map;

/**
 * A Keyhold process that dies mid-change, for the crash tests. Run as a child JVM on the test classpath with the
 * parent's SoftHSM2 configuration ({@code SOFTHSM2_CONF}) and database; it does the HSM half of a change exactly as
 * Keyhold does (same adapter, same handle scheme), opens the database transaction of the other half, and then
 * {@link Runtime#halt}s: no shutdown hooks, no commit, no rollback sent; PostgreSQL aborts the transaction when the
 * connection drops, as after a power cut.
 *
 * <p>{@code retire} and {@code destroy} model the other order (the move commits, then the HSM deletion runs after the
 * commit): they commit the move and halt before the deletion.
 *
 * <p>Usage: {@code generate <partition> <handle> <issuerId>}, {@code retire <partition> <handle> <kid>} or
 * {@code destroy <partition> <handle> <kid>}; the
 * partition's library, slot and PIN come from the environment ({@code KH_LIBRARY}, {@code KH_SLOT},
 * {@code KH_PIN}), the database from {@code KH_JDBC_URL}, {@code KH_JDBC_USER}, {@code KH_JDBC_PASSWORD}.
 */
public final class CrashChild {

    public static final String HALTING = "halting before commit";
    public static final String COMMITTED = "committed, halting before the HSM deletion";

    private CrashChild() {}

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String partition = args[1];
        String handle = args[2];
        SunPkcs11Hsm hsm = new SunPkcs11Hsm(Map.of(
                partition,
                new SunPkcs11Hsm.PartitionSettings(
                        System.getenv("KH_LIBRARY"),
                        Integer.valueOf(System.getenv("KH_SLOT")),
                        null,
                        System.getenv("KH_PIN"))));
        Connection db = DriverManager.getConnection(
                System.getenv("KH_JDBC_URL"), System.getenv("KH_JDBC_USER"), System.getenv("KH_JDBC_PASSWORD"));
        db.setAutoCommit(false);
        if (mode.equals("generate")) {
            String issuerId = args[3];
            PublicKey pub = hsm.generate(partition, handle, SigningAlgorithm.ES256);
            JWK jwk = PublicJwks.of(pub, SigningAlgorithm.ES256);
            Instant now = Instant.now();
            try (PreparedStatement ps = db.prepareStatement("insert into signing_key (kid, issuer_id, algorithm,"
                    + " partition_name, hsm_handle, public_jwk, state, created_at, activatable_at)"
                    + " values (?, ?, 'ES256', ?, ?, ?, 'PENDING', ?, ?)")) {
                ps.setString(1, jwk.getKeyID());
                ps.setString(2, issuerId);
                ps.setString(3, partition);
                ps.setString(4, handle);
                ps.setString(5, jwk.toJSONString());
                ps.setTimestamp(6, Timestamp.from(now));
                ps.setTimestamp(7, Timestamp.from(now));
                ps.executeUpdate();
            }
        } else if (mode.equals("retire") || mode.equals("destroy")) {
            // Keyhold's order since invariant 9: the move commits first, the HSM deletion follows the commit. This
            // process dies in between, so the HSM half never happens.
            String kid = args[3];
            String sql = mode.equals("retire")
                    ? "update signing_key set state = 'RETIRED', retired_at = now(), verify_until = now() + interval '1 hour'"
                            + " where kid = ? and state = 'ACTIVE'"
                    : "update signing_key set state = 'DESTROYED', destroyed_at = now() where kid = ?";
            try (PreparedStatement ps = db.prepareStatement(sql)) {
                ps.setString(1, kid);
                if (ps.executeUpdate() != 1) {
                    throw new IllegalStateException("no row moved for " + kid);
                }
            }
            db.commit();
            System.out.println(COMMITTED);
        } else {
            throw new IllegalArgumentException(mode);
        }
        System.out.println(HALTING);
        System.out.flush();
        Runtime.getRuntime().halt(1);
    }
}
