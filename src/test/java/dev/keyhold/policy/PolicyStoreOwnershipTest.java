package dev.keyhold.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.keyhold.store.SqlOwnership;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code issuer_policy} is named in SQL by {@link PolicyStore} only. One exception: {@code store/IssuerStore}'s list
 * of issuers without a policy chain (the policy upgrade's) reads issuer rows and tests each for a version with
 * {@code not exists (select 1 from issuer_policy ...)}, a read about issuers answered in one query.
 */
class PolicyStoreOwnershipTest {

    static final String STORE = "dev/keyhold/policy/PolicyStore";

    @Test
    void onlyThePolicyStoreHasSqlForIssuerPolicy() throws IOException {
        SqlOwnership.assertOwned(
                Map.of("issuer_policy", Set.of(STORE, "dev/keyhold/store/IssuerStore")), STORE, "issuer_policy");
    }

    @Test
    void theScanSeesPlantedSql() throws IOException {
        assertEquals(
                Map.of("issuer_policy", Set.of("dev/keyhold/policy/PolicyStoreOwnershipTest")),
                SqlOwnership.in(Violation.class, Set.of("issuer_policy")));
    }

    @SuppressWarnings("unused")
    private static final class Violation {
        String sql(String issuer) {
            return "delete from issuer_policy where issuer_id = '" + issuer + "' and version > 1";
        }
    }
}
