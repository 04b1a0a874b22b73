package dev.keyhold.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The issuer aggregate's tables ({@code issuer}, {@code signing_key}, {@code activation_request},
 * {@code activation_decision}) are named in SQL by {@link IssuerStore} only; the Panache entities' own JPQL names
 * entities, not tables, and is not SQL this scan sees. Exceptions, each with its reason:
 * <ul>
 *   <li>{@code audit/DenialRecorder} reads a key's issuer ({@code select issuer_id from signing_key}) to scope a
 *   denial record: {@code audit} sits below {@code store} in the layers and may not call it;</li>
 *   <li>{@code trust/TrustBundleStore} checks that an issuer exists ({@code select 1 from issuer}); the trust
 *   aggregate's files are converted separately, and {@link IssuerStore#exists} is there to replace it.</li>
 * </ul>
 */
class IssuerStoreOwnershipTest {

    static final String STORE = "dev/keyhold/store/IssuerStore";

    @Test
    void onlyTheIssuerStoreHasSqlForIssuerKeyAndActivationTables() throws IOException {
        SqlOwnership.assertOwned(
                Map.of(
                        "issuer", Set.of(STORE, "dev/keyhold/trust/TrustBundleStore"),
                        "signing_key", Set.of(STORE, "dev/keyhold/audit/DenialRecorder"),
                        "activation_request", Set.of(STORE),
                        "activation_decision", Set.of(STORE)),
                STORE,
                "issuer",
                "signing_key",
                "activation_request");
    }

    /** The scan sees SQL in a constant, in a concatenation with a variable and in a lambda of a nested class. */
    @Test
    void theScanSeesPlantedSql() throws IOException {
        String self = "dev/keyhold/store/IssuerStoreOwnershipTest";
        assertEquals(
                Map.of(
                        "issuer", Set.of(self),
                        "signing_key", Set.of(self),
                        "activation_request", Set.of(self),
                        "activation_decision", Set.of(self)),
                SqlOwnership.in(
                        Violations.class,
                        Set.of("issuer", "signing_key", "activation_request", "activation_decision")));
        assertEquals(
                Map.of(),
                SqlOwnership.in(Innocent.class, Set.of("issuer", "signing_key")),
                "JPQL over entities and look-alike names are not SQL for these tables");
    }

    @SuppressWarnings("unused")
    private static final class Violations {
        String constant() {
            return "select id from issuer where next_due_at <= ?1";
        }

        String concatenated(String kid) {
            return "SELECT state FROM signing_key WHERE kid = '" + kid + "'";
        }

        Supplier<String> lambda() {
            return () -> "update activation_request set state = 'EXPIRED'";
        }

        String joined() {
            return "select 1 from issuer i join activation_decision d on d.custodian = i.id";
        }
    }

    @SuppressWarnings("unused")
    private static final class Innocent {
        String jpql() {
            return "select k.issuerId from KeyEntity k where k.kid = ?1";
        }

        String other() {
            return "select version from issuer_policy where issuer_id = ?1";
        }
    }
}
