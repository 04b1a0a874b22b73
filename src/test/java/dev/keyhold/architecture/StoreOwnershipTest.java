package dev.keyhold.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Every table of the schema has one store: the only class whose SQL names the table (reads and writes); so each table
 * also has one writer (key and activation rows: see also {@code command/SingleWriterTest}, which allows only
 * {@code LifecycleCommands} to change them through their entities). Tables come
 * from the migrations ({@code create table}), SQL from the string constants of the compiled main classes (nested
 * and lambda classes count as their outer class), so a new table without a store, or a second class reaching into a
 * store's table, fails here. The Panache entities' tables are reached through their entity classes (JPQL names the
 * entity, not the table) and are listed with the store that holds their native SQL.
 */
class StoreOwnershipTest {

    /** Table -> the one class allowed to name it in SQL. */
    static final Map<String, String> STORES = Map.ofEntries(
            Map.entry("issuer", "dev/keyhold/store/IssuerStore"),
            Map.entry("signing_key", "dev/keyhold/store/IssuerStore"),
            Map.entry("activation_request", "dev/keyhold/store/IssuerStore"),
            Map.entry("activation_decision", "dev/keyhold/store/ActivationDecisionEntity"), // JPQL only, no SQL
            Map.entry("hsm_orphan", "dev/keyhold/lifecycle/HsmOrphanStore"),
            Map.entry("issuer_policy", "dev/keyhold/policy/PolicyStore"),
            Map.entry("custodian_credential", "dev/keyhold/custodian/CredentialStore"),
            Map.entry("custodian_challenge", "dev/keyhold/custodian/CredentialStore"),
            Map.entry("audit_record", "dev/keyhold/audit/AuditStore"),
            Map.entry("audit_checkpoint", "dev/keyhold/audit/AuditStore"),
            Map.entry("audit_key", "dev/keyhold/audit/AuditStore"),
            Map.entry("outbox_event", "dev/keyhold/audit/OutboxStore"),
            Map.entry("relay_position", "dev/keyhold/audit/OutboxStore"),
            Map.entry("trust_key", "dev/keyhold/trust/TrustKeys"),
            Map.entry("trust_bundle", "dev/keyhold/trust/TrustBundleStore"),
            Map.entry("trust_bundle_signature", "dev/keyhold/trust/TrustBundleStore"),
            Map.entry("ledger_batch", "dev/keyhold/evidence/LedgerStore"),
            Map.entry("ledger_token", "dev/keyhold/evidence/LedgerStore"),
            Map.entry("ledger_head", "dev/keyhold/evidence/LedgerStore"),
            Map.entry("ledger_checkpoint", "dev/keyhold/evidence/LedgerStore"),
            Map.entry("compromise_report", "dev/keyhold/evidence/CompromiseReportStore"));

    /**
     * Justified exceptions, each with its reason: class -> tables it may name besides their store.
     */
    static final Map<String, Set<String>> ALSO = Map.of(
            // PolicyUpgrade's one query for issuers that have no policy chain yet: a question about issuers, answered
            // with a "not exists" over their policy versions in the same statement.
            "dev/keyhold/store/IssuerStore", Set.of("issuer_policy"));

    private static final Pattern SQL =
            Pattern.compile("(?is)^\\s*(select|insert|update|delete|create|alter|drop|with|lock|truncate)\\b");

    private static final Pattern CREATE_TABLE =
            Pattern.compile("(?i)create\\s+table\\s+(?:if\\s+not\\s+exists\\s+)?([a-z_][a-z0-9_]*)");

    @Test
    void everyTableHasAStore() throws IOException {
        Set<String> tables = new TreeSet<>();
        try (Stream<Path> files = Files.list(Path.of("migrations"))) {
            for (Path f : files.filter(x -> x.toString().endsWith(".sql")).toList()) {
                Matcher m = CREATE_TABLE.matcher(Files.readString(f));
                while (m.find()) {
                    tables.add(m.group(1).toLowerCase());
                }
            }
        }
        assertThat(tables).isNotEmpty();
        assertThat(STORES.keySet()).containsAll(tables);
    }

    @Test
    void onlyItsStoreNamesATable() throws IOException {
        Map<String, Set<String>> found = new TreeMap<>();
        int scanned = 0;
        try (Stream<Path> files = Files.walk(Path.of("target/classes/dev/keyhold"))) {
            for (Path f : files.filter(x -> x.toString().endsWith(".class")).toList()) {
                scanned++;
                try (InputStream in = Files.newInputStream(f)) {
                    scan(new ClassReader(in), found);
                }
            }
        }
        assertThat(scanned).isGreaterThan(100);
        Map<String, Set<String>> outside = new TreeMap<>();
        found.forEach((table, classes) -> {
            for (String c : classes) {
                if (!c.equals(STORES.get(table))
                        && !ALSO.getOrDefault(c, Set.of()).contains(table)) {
                    outside.computeIfAbsent(table, k -> new TreeSet<>()).add(c);
                }
            }
        });
        assertThat(outside).as("SQL naming a table outside its store").isEmpty();
        ALSO.forEach((c, tables) -> tables.forEach(t -> assertThat(found.getOrDefault(t, Set.of()))
                .as("exception %s %s no longer applies: remove it", c, t)
                .contains(c)));
        STORES.forEach((t, store) -> {
            if (!store.endsWith("Entity")) { // a table reached only through its Panache entity has no SQL to see
                assertThat(found.getOrDefault(t, Set.of()))
                        .as("the scan must see %s's own SQL on %s", store, t)
                        .contains(store);
            }
        });
    }

    /** The scan sees SQL in a nested class and attributes it to the outer class. */
    @Test
    void theScanSeesAPlantedQuery() throws IOException {
        Map<String, Set<String>> found = new TreeMap<>();
        try (InputStream in = StoreOwnershipTest.class.getResourceAsStream("StoreOwnershipTest$Planted.class")) {
            scan(new ClassReader(in), found);
        }
        assertThat(found).containsEntry("trust_bundle", Set.of("dev/keyhold/architecture/StoreOwnershipTest"));
        assertThat(found).containsEntry("audit_record", Set.of("dev/keyhold/architecture/StoreOwnershipTest"));
    }

    static final class Planted {
        static final String Q1 = "select sequence from trust_bundle where issuer_id = ?";

        String q2(long seq) {
            return "INSERT INTO audit_record (seq) values (" + seq + ")";
        }
    }

    static void scan(ClassReader reader, Map<String, Set<String>> found) {
        String owner = reader.getClassName();
        String outer = owner.contains("$") ? owner.substring(0, owner.indexOf('$')) : owner;
        reader.accept(
                new ClassVisitor(Opcodes.ASM9) {
                    @Override
                    public org.objectweb.asm.FieldVisitor visitField(
                            int access, String name, String descriptor, String signature, Object value) {
                        if (value instanceof String s) {
                            record(s);
                        }
                        return null;
                    }

                    @Override
                    public MethodVisitor visitMethod(
                            int access, String name, String descriptor, String signature, String[] exceptions) {
                        return new MethodVisitor(Opcodes.ASM9) {
                            @Override
                            public void visitLdcInsn(Object value) {
                                if (value instanceof String s) {
                                    record(s);
                                }
                            }

                            @Override
                            public void visitInvokeDynamicInsn(
                                    String name,
                                    String descriptor,
                                    org.objectweb.asm.Handle bootstrap,
                                    Object... arguments) {
                                // "... from " + table + ...: the literal parts are in the concatenation's recipe
                                for (Object a : arguments) {
                                    if (a instanceof String s) {
                                        record(s);
                                    }
                                }
                            }
                        };
                    }

                    private void record(String s) {
                        if (!SQL.matcher(s).find()) {
                            return; // a message that says "from issuer x" is not SQL
                        }
                        for (String table : STORES.keySet()) {
                            if (Pattern.compile("(?is)\\b(from|join|into|update|table)\\s+" + table + "\\b")
                                    .matcher(s)
                                    .find()) {
                                found.computeIfAbsent(table, k -> new TreeSet<>())
                                        .add(outer);
                            }
                        }
                    }
                },
                0);
    }
}
