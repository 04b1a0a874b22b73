package dev.keyhold.key;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The invariants the schema itself enforces, attacked with plain SQL that bypasses Keyhold's code. */
@QuarkusTest
class DatabaseInvariantsTest {

    @Inject
    Sql sql;

    private void insertKey(String kid, String issuer, String partition, String state) {
        Instant now = Instant.now();
        sql.exec(
                "insert into signing_key (kid, issuer_id, algorithm, partition_name, hsm_handle, public_jwk, state,"
                        + " created_at, activatable_at, activated_at, not_after) values (?, ?, 'ES256', ?, ?, '{}', ?, ?, ?, ?, ?)",
                kid,
                issuer,
                partition,
                "h-" + kid,
                state,
                now,
                now,
                now,
                now.plusSeconds(3600));
    }

    @Test
    void atMostOneActiveKeyPerIssuer() {
        String id = Api.createIssuer("one-active");
        insertKey("k1-" + id, id, "default", "ACTIVE");
        assertThatThrownBy(() -> insertKey("k2-" + id, id, "default", "ACTIVE"))
                .isInstanceOfSatisfying(
                        Sql.SqlFailure.class, e -> assertThat(e.sqlState).isEqualTo("23505"));
        insertKey("k3-" + id, id, "default", "PENDING");
        assertThatThrownBy(() -> sql.exec("update signing_key set state = 'ACTIVE' where kid = ?", "k3-" + id))
                .isInstanceOfSatisfying(
                        Sql.SqlFailure.class, e -> assertThat(e.sqlState).isEqualTo("23505"));
    }

    @Test
    void kidsAreUnique() {
        String id = Api.createIssuer("uniq-kid");
        insertKey("dup-" + id, id, "default", "ACTIVE");
        assertThatThrownBy(() -> insertKey("dup-" + id, id, "default", "PENDING"))
                .isInstanceOfSatisfying(
                        Sql.SqlFailure.class, e -> assertThat(e.sqlState).isEqualTo("23505"));
    }

    @Test
    void aKeyLivesOnlyInItsIssuersPartition() {
        String id = Api.createIssuer("partition-bound");
        assertThatThrownBy(() -> insertKey("east-" + id, id, "east", "PENDING"))
                .isInstanceOfSatisfying(
                        Sql.SqlFailure.class, e -> assertThat(e.sqlState).isEqualTo("23503"));
    }

    @Test
    void stateColumnsMustBeConsistent() {
        String id = Api.createIssuer("consistent");
        Instant now = Instant.now();
        assertThatThrownBy(() -> sql.exec(
                        "insert into signing_key (kid, issuer_id, algorithm, partition_name, hsm_handle,"
                                + " public_jwk, state, created_at, activatable_at) values (?, ?, 'ES256', 'default', ?, '{}', 'ACTIVE', ?, ?)",
                        "noafter-" + id,
                        id,
                        "h-noafter-" + id,
                        now,
                        now))
                .isInstanceOfSatisfying(
                        Sql.SqlFailure.class, e -> assertThat(e.sqlState).isEqualTo("23514"));
        assertThatThrownBy(() -> sql.exec(
                        "insert into signing_key (kid, issuer_id, algorithm, partition_name, hsm_handle,"
                                + " public_jwk, state, created_at, activatable_at) values (?, ?, 'ES256', 'default', ?, '{}', 'LIMBO', ?, ?)",
                        "limbo-" + id,
                        id,
                        "h-limbo-" + id,
                        now,
                        now))
                .isInstanceOfSatisfying(
                        Sql.SqlFailure.class, e -> assertThat(e.sqlState).isEqualTo("23514"));
    }
}
