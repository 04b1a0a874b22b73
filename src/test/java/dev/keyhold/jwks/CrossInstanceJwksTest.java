package dev.keyhold.jwks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.jwk.JWK;
import dev.keyhold.audit.AuditHash;
import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.events.OutboxFollower;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.hsm.PublicJwks;
import dev.keyhold.key.KeyHandles;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.MutableClock;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * SPEC: each instance refreshes its JWKS cache when the outbox moves, including for changes another instance made.
 *
 * <p>"Another instance" is simulated by doing, with plain JDBC on its own connection, exactly what a second Keyhold's
 * rotation writes in one transaction: the HSM key, its signing_key row, its hash-chained audit record and its outbox
 * event, under the chain lock. Nothing in this JVM's Keyhold is told: no RecordedChange fires, nothing is invalidated
 * locally; only the OutboxFollower's polling can notice. A genuine second Quarkus application in this JVM (or a child
 * process of the packaged jar, which does not exist in the test phase) would cost a second boot and a second SoftHSM2
 * configuration per test run for no additional coverage of this path.
 */
@QuarkusTest
class CrossInstanceJwksTest {

    @Inject
    AgroalDataSource ds;

    @Inject
    HsmPort hsm;

    @Inject
    MutableClock clock;

    @Inject
    OutboxFollower follower;

    @Test
    void aKeyCreatedByAnotherInstanceReachesThisInstancesJwksThroughTheOutbox() throws Exception {
        String id = Api.createIssuer("xinst");
        String jwksPath = "/issuers/" + id + "/.well-known/jwks.json";
        // Let the follower get past this issuer's own creation event (it invalidates once more when it sees it),
        // so the cache entry below is stable: two reads around a follower pass give the same document.
        String[] stable = new String[1];
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            String a = etag(jwksPath);
            follower.catchUp();
            stable[0] = etag(jwksPath);
            return a.equals(stable[0]);
        });
        String before = stable[0];

        String handle = KeyHandles.next(id);
        JWK jwk = PublicJwks.of(hsm.generate("default", handle, SigningAlgorithm.ES256), SigningAlgorithm.ES256);
        Instant now = clock.instant();
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            exec(c, "select pg_advisory_xact_lock(?)", 0x4b6579686f6c64L);
            exec(
                    c,
                    "insert into signing_key (kid, issuer_id, algorithm, partition_name, hsm_handle, public_jwk, state,"
                            + " created_at, activatable_at) values (?, ?, 'ES256', 'default', ?, ?, 'PENDING', ?, ?)",
                    jwk.getKeyID(),
                    id,
                    handle,
                    jwk.toJSONString(),
                    Timestamp.from(now),
                    Timestamp.from(now.plus(Duration.ofHours(2))));
            c.commit(); // the row alone, as if the other instance were still mid-way: no event yet
            exec(c, "select pg_advisory_xact_lock(?)", 0x4b6579686f6c64L);

            // This instance does not rebuild on its own: the follower finds nothing to act on.
            follower.catchUp();
            assertThat(etag(jwksPath)).isEqualTo(before);

            long seq;
            String prev;
            try (PreparedStatement ps = c.prepareStatement(
                            "select seq, hash, recorded_at from audit_record order by seq desc limit 1");
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                seq = rs.getLong(1) + 1;
                prev = rs.getString(2);
                // as ChangeRecorder does: time never runs backwards along the chain
                Instant last = rs.getTimestamp(3).toInstant();
                if (now.isBefore(last)) {
                    now = last;
                }
            }
            String details = AuditHash.canonicalJson(java.util.Map.of("algorithm", "ES256", "partition", "default"));
            String hash = AuditHash.compute(
                    seq,
                    now,
                    "other-node",
                    "scheduler",
                    "key.created",
                    "success",
                    id,
                    jwk.getKeyID(),
                    null,
                    details,
                    prev);
            exec(
                    c,
                    "insert into audit_record (seq, recorded_at, node, actor, action, outcome, issuer_id, kid, request_id,"
                            + " details, prev_hash, hash) values (?, ?, 'other-node', 'scheduler', 'key.created', 'success',"
                            + " ?, ?, null, ?, ?, ?)",
                    seq,
                    Timestamp.from(now),
                    id,
                    jwk.getKeyID(),
                    details,
                    prev,
                    hash);
            exec(
                    c,
                    "insert into outbox_event (seq, type, source, issuer_id, subject, event_time, data) values"
                            + " (nextval('outbox_event_seq'), 'keyhold.key.created', ?, ?, ?, ?, ?)",
                    "/issuers/" + id,
                    id,
                    jwk.getKeyID(),
                    Timestamp.from(now),
                    details);
            c.commit();
        }

        await().atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> Api.anonymous()
                        .get(jwksPath)
                        .then()
                        .statusCode(200)
                        .extract()
                        .jsonPath()
                        .<String>getList("keys.kid")
                        .equals(List.of(jwk.getKeyID())));
        // the other instance's audit record extends the chain like any other
        Api.as("auditor")
                .get("/v1/audit/verify")
                .then()
                .statusCode(200)
                .body("ok", org.hamcrest.Matchers.equalTo(true));
    }

    private static String etag(String path) {
        return Api.anonymous().get(path).then().statusCode(200).extract().header("ETag");
    }

    private static void exec(Connection c, String sql, Object... args) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.execute();
        }
    }
}
