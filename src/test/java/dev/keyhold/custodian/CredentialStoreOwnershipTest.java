package dev.keyhold.custodian;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.keyhold.store.SqlOwnership;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@code custodian_credential} and {@code custodian_challenge} are named in SQL by {@link CredentialStore} only. */
class CredentialStoreOwnershipTest {

    static final String STORE = "dev/keyhold/custodian/CredentialStore";

    @Test
    void onlyTheCredentialStoreHasSqlForCredentialsAndChallenges() throws IOException {
        SqlOwnership.assertOwned(
                Map.of("custodian_credential", Set.of(STORE), "custodian_challenge", Set.of(STORE)),
                STORE,
                "custodian_credential",
                "custodian_challenge");
    }

    @Test
    void theScanSeesPlantedSql() throws IOException {
        String self = "dev/keyhold/custodian/CredentialStoreOwnershipTest";
        assertEquals(
                Map.of("custodian_credential", Set.of(self), "custodian_challenge", Set.of(self)),
                SqlOwnership.in(Violations.class, Set.of("custodian_credential", "custodian_challenge")));
    }

    @SuppressWarnings("unused")
    private static final class Violations {
        String credential() {
            return "insert into custodian_credential (id, principal) values ('x', 'mallory')";
        }

        String challenge() {
            return "select id from custodian_challenge where principal = ?1";
        }
    }
}
