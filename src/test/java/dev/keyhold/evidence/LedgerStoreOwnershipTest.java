package dev.keyhold.evidence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * One store per aggregate, for the evidence package's two: {@link LedgerStore} is the only class with SQL on the
 * issuance ledger's tables (the group-commit writer's statement and the partitions' DDL included), and
 * {@link CompromiseReportStore} the only one with SQL on {@code compromise_report}. Read from the string constants
 * of the compiled main classes; nested and lambda code counts as its outer class.
 */
class LedgerStoreOwnershipTest {

    private static final String LEDGER_STORE = "dev/keyhold/evidence/LedgerStore";
    private static final String REPORT_STORE = "dev/keyhold/evidence/CompromiseReportStore";

    private static final Map<String, String> OWNERS = Map.of(
            "ledger_head", LEDGER_STORE,
            "ledger_batch", LEDGER_STORE,
            "ledger_token", LEDGER_STORE,
            "ledger_checkpoint", LEDGER_STORE,
            "compromise_report", REPORT_STORE);

    /**
     * Known exceptions ("class table"), each with its reason. Each must still be seen, so one that is fixed has to be
     * removed from here.
     */
    private static final Map<String, String> EXCEPTIONS = Map.of(
            "dev/keyhold/ops/OperationsMetrics ledger_checkpoint",
                    "not the evidence package's file: its checkpoint-age query moves to LedgerStore.checkpointLag()",
            "dev/keyhold/ops/OperationsMetrics ledger_batch",
                    "not the evidence package's file: its checkpoint-age query moves to LedgerStore.checkpointLag()");

    @Test
    void onlyTheStoresHoldSqlOnTheirTables() throws IOException {
        Path classes = Path.of("target/classes/dev/keyhold");
        assertTrue(Files.isDirectory(classes), "compiled main classes expected at " + classes.toAbsolutePath());
        Map<String, Set<String>> users = new TreeMap<>();
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(x -> x.toString().endsWith(".class")).toList()) {
                try (InputStream in = Files.newInputStream(f)) {
                    sqlUsers(new ClassReader(in), users);
                }
            }
        }
        Set<String> outside = new TreeSet<>();
        for (Map.Entry<String, String> e : OWNERS.entrySet()) {
            String table = e.getKey();
            Set<String> found = users.getOrDefault(table, Set.of());
            assertTrue(
                    found.contains(e.getValue()),
                    "no SQL on " + table + " in " + e.getValue() + ": the scan is broken");
            for (String user : found) {
                if (!user.equals(e.getValue()) && !EXCEPTIONS.containsKey(user + " " + table)) {
                    outside.add(user + " " + table);
                }
            }
        }
        assertEquals(Set.of(), outside, "SQL on evidence tables outside their store");
        for (String exception : EXCEPTIONS.keySet()) {
            String[] parts = exception.split(" ");
            assertTrue(
                    users.getOrDefault(parts[1], Set.of()).contains(parts[0]),
                    "the exception '" + exception + "' is no longer needed: remove it from EXCEPTIONS");
        }
    }

    /** The scan sees SQL naming the tables in a method, a lambda and an inner class (else the test cannot fail). */
    @Test
    void theScanSeesAPlantedViolation() throws IOException {
        Map<String, Set<String>> planted = new TreeMap<>();
        for (String c :
                List.of("LedgerStoreOwnershipTest$Violations.class", "LedgerStoreOwnershipTest$Violations$1.class")) {
            try (InputStream in = LedgerStoreOwnershipTest.class.getResourceAsStream(c)) {
                sqlUsers(new ClassReader(in), planted);
            }
        }
        Set<String> self = Set.of("dev/keyhold/evidence/LedgerStoreOwnershipTest");
        assertEquals(OWNERS.keySet(), planted.keySet(), String.valueOf(planted));
        planted.values().forEach(v -> assertEquals(self, v));
    }

    private static void sqlUsers(ClassReader reader, Map<String, Set<String>> users) {
        String owner = reader.getClassName();
        String outer = owner.contains("$") ? owner.substring(0, owner.indexOf('$')) : owner;
        reader.accept(
                new ClassVisitor(Opcodes.ASM9) {
                    @Override
                    public MethodVisitor visitMethod(
                            int access, String name, String descriptor, String signature, String[] exceptions) {
                        return new MethodVisitor(Opcodes.ASM9) {
                            @Override
                            public void visitLdcInsn(Object value) {
                                if (value instanceof String sql) {
                                    for (String table : OWNERS.keySet()) {
                                        if (Pattern.compile("(?i)\\b(from|join|into|update|table)\\s+" + table + "\\b")
                                                .matcher(sql)
                                                .find()) {
                                            users.computeIfAbsent(table, t -> new TreeSet<>())
                                                    .add(outer);
                                        }
                                    }
                                }
                            }
                        };
                    }
                },
                0);
    }

    @SuppressWarnings("unused")
    private static final class Violations {
        String read() {
            return "select count(*) from ledger_token where kid = ?";
        }

        String join() {
            return "select b.seq from ledger_checkpoint c JOIN ledger_head h on h.seq = c.seq";
        }

        Supplier<String> lambda() {
            return () -> "update compromise_report set reports = 0";
        }

        Supplier<String> inner() {
            return new Supplier<>() {
                @Override
                public String get() {
                    return "insert into ledger_batch (seq) values (1)";
                }
            };
        }
    }
}
