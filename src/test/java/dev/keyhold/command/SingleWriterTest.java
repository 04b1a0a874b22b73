package dev.keyhold.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.keyhold.domain.KeyState;
import dev.keyhold.store.ActivationRequestEntity;
import dev.keyhold.store.KeyEntity;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * {@link LifecycleCommands} is the only writer of key, activation request and decision rows. Read from the
 * compiled main classes (javac's bytecode, before Quarkus rewrites field access), so a write cannot hide in a
 * lambda, an inner class or a helper: outside the row classes themselves and the command service, no class may
 * assign a row field, create a row, call a row's persist/delete/apply/update, or carry SQL or JPQL that inserts,
 * updates or deletes those tables.
 */
class SingleWriterTest {

    private static final Set<String> ROWS = Set.of(
            "dev/keyhold/store/KeyEntity",
            "dev/keyhold/store/ActivationRequestEntity",
            "dev/keyhold/store/ActivationDecisionEntity");
    private static final String WRITER = "dev/keyhold/command/LifecycleCommands";
    private static final Set<String> WRITE_METHODS =
            Set.of("persist", "persistAndFlush", "delete", "deleteAll", "deleteById", "update", "apply", "of");
    private static final Pattern WRITE_SQL = Pattern.compile("(?is).*\\b(insert\\s+into|update|delete\\s+from)\\s+"
            + "(signing_key|activation_request|activation_decision|KeyEntity|ActivationRequestEntity"
            + "|ActivationDecisionEntity)\\b.*");

    /** Custodian signatures: each table of credentials and policy versions has exactly one writer. */
    private static final java.util.Map<String, String> TABLE_WRITERS = java.util.Map.of(
            "custodian_challenge", "dev/keyhold/custodian/CredentialStore",
            "custodian_credential", "dev/keyhold/custodian/CredentialStore",
            "issuer_policy", "dev/keyhold/policy/PolicyStore");

    @Test
    void credentialAndPolicyTablesHaveOneWriterEach() throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("target/classes/dev/keyhold"))) {
            for (Path f : files.filter(x -> x.toString().endsWith(".class")).toList()) {
                try (InputStream in = Files.newInputStream(f)) {
                    found.addAll(tableWrites(new ClassReader(in)));
                }
            }
        }
        assertEquals(List.of(), found, "writes of credential or policy tables outside their writer");
        try (InputStream in = SingleWriterTest.class.getResourceAsStream("SingleWriterTest$Violations.class")) {
            assertEquals(1, tableWrites(new ClassReader(in)).size(), "the scan must see an insert into issuer_policy");
        }
    }

    private static List<String> tableWrites(ClassReader reader) {
        String owner = reader.getClassName();
        List<String> found = new ArrayList<>();
        String outer = owner.contains("$") ? owner.substring(0, owner.indexOf('$')) : owner;
        reader.accept(
                new ClassVisitor(Opcodes.ASM9) {
                    @Override
                    public MethodVisitor visitMethod(
                            int access, String name, String descriptor, String signature, String[] exceptions) {
                        return new MethodVisitor(Opcodes.ASM9) {
                            @Override
                            public void visitLdcInsn(Object value) {
                                if (!(value instanceof String s)) {
                                    return;
                                }
                                TABLE_WRITERS.forEach((table, writer) -> {
                                    if (Pattern.compile("(?is).*\\b(insert\\s+into|update|delete\\s+from)\\s+" + table
                                                            + "\\b.*")
                                                    .matcher(s)
                                                    .matches()
                                            && !outer.equals(writer)) {
                                        found.add(owner + "." + name + " writes " + table + ": '" + s + "'");
                                    }
                                });
                            }
                        };
                    }
                },
                0);
        return found;
    }

    @Test
    void onlyTheCommandServiceWritesKeyAndActivationRows() throws IOException {
        Path classes = Path.of("target/classes/dev/keyhold");
        assertTrue(Files.isDirectory(classes), "compiled main classes expected at " + classes.toAbsolutePath());
        List<String> found = new ArrayList<>();
        int scanned;
        try (Stream<Path> files = Files.walk(classes)) {
            List<Path> all = files.filter(f -> f.toString().endsWith(".class")).toList();
            scanned = all.size();
            for (Path f : all) {
                try (InputStream in = Files.newInputStream(f)) {
                    found.addAll(writes(new ClassReader(in)));
                }
            }
        }
        assertTrue(scanned > 100, "scanned only " + scanned + " classes");
        assertEquals(List.of(), found, "row writes outside " + WRITER);
    }

    /** The scan itself finds each kind of write (else the test above could never fail). */
    @Test
    void theScanSeesEveryKindOfWrite() throws IOException {
        List<String> found;
        try (InputStream in = SingleWriterTest.class.getResourceAsStream("SingleWriterTest$Violations.class")) {
            found = writes(new ClassReader(in));
        }
        String all = String.join("\n", found);
        assertTrue(all.contains("assigns dev/keyhold/store/KeyEntity.state"), all);
        assertTrue(all.contains("creates dev/keyhold/store/KeyEntity"), all);
        assertTrue(all.contains("calls dev/keyhold/store/KeyEntity.persist"), all);
        assertTrue(all.contains("calls dev/keyhold/store/ActivationRequestEntity.apply"), all);
        assertTrue(all.contains("calls dev/keyhold/store/KeyEntity.update"), all);
        assertTrue(all.contains("assigns dev/keyhold/store/ActivationRequestEntity.expiresAt"), all); // in a lambda
        assertTrue(all.contains("SQL 'update signing_key set state"), all);
        assertTrue(all.contains("SQL 'DELETE FROM activation_decision"), all);
        assertEquals(8, found.size(), all);
    }

    /**
     * The trust aggregate's tables, each written by exactly one class, its store: trust keys by {@code TrustKeys},
     * bundles (inserted when staged, stamped with their predecessor's digest at their first signing) and bundle
     * signatures by {@code TrustBundleStore}. Read from SQL constants in the compiled classes (nested and lambda code
     * counts as its outer class).
     */
    @Test
    void eachTrustTableHasItsOwnWriters() throws IOException {
        Map<String, Set<String>> allowed = Map.of(
                "trust_key", Set.of("dev/keyhold/trust/TrustKeys"),
                "trust_bundle_signature", Set.of("dev/keyhold/trust/TrustBundleStore"),
                "trust_bundle", Set.of("dev/keyhold/trust/TrustBundleStore"));
        Map<String, Set<String>> writers = new TreeMap<>();
        try (Stream<Path> files = Files.walk(Path.of("target/classes/dev/keyhold"))) {
            for (Path f : files.filter(x -> x.toString().endsWith(".class")).toList()) {
                try (InputStream in = Files.newInputStream(f)) {
                    sqlWriters(new ClassReader(in), allowed.keySet(), writers);
                }
            }
        }
        for (Map.Entry<String, Set<String>> e : allowed.entrySet()) {
            assertTrue(writers.containsKey(e.getKey()), "no writer of " + e.getKey() + " found: the scan is broken");
            assertEquals(e.getValue(), writers.get(e.getKey()), "writers of " + e.getKey());
        }
        // the scan itself sees a write of a trust table
        Map<String, Set<String>> planted = new TreeMap<>();
        try (InputStream in = SingleWriterTest.class.getResourceAsStream("SingleWriterTest$Violations.class")) {
            sqlWriters(new ClassReader(in), allowed.keySet(), planted);
        }
        assertEquals(Set.of("dev/keyhold/command/SingleWriterTest"), planted.get("trust_key"), String.valueOf(planted));
    }

    private static void sqlWriters(ClassReader reader, Set<String> tables, Map<String, Set<String>> writers) {
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
                                    for (String table : tables) {
                                        if (Pattern.compile("(?is).*\\b(insert\\s+into|update|delete\\s+from)\\s+"
                                                        + table + "\\b.*")
                                                .matcher(sql)
                                                .matches()) {
                                            writers.computeIfAbsent(table, t -> new TreeSet<>())
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
        void assign(KeyEntity k) {
            k.state = KeyState.REVOKED;
        }

        void create() {
            new KeyEntity().persist();
        }

        void applyTo(ActivationRequestEntity r) {
            r.apply(r.toRequest());
            Runnable later = () -> r.expiresAt = null;
            later.run();
        }

        void bulk() {
            KeyEntity.update("state = ?1", KeyState.REVOKED);
        }

        String sql() {
            return "update signing_key set state = 'REVOKED'";
        }

        String more() {
            return "DELETE FROM activation_decision where 1 = 1";
        }

        String policy() {
            return "insert into issuer_policy (issuer_id, version) values ('x', 2)";
        }

        String trust() {
            return "update trust_key set state = 'CURRENT'";
        }
    }

    private static List<String> writes(ClassReader reader) {
        String owner = reader.getClassName();
        List<String> found = new ArrayList<>();
        if (ROWS.contains(owner) || owner.equals(WRITER)) {
            return found;
        }
        reader.accept(
                new ClassVisitor(Opcodes.ASM9) {
                    @Override
                    public MethodVisitor visitMethod(
                            int access, String name, String descriptor, String signature, String[] exceptions) {
                        String where = owner + "." + name;
                        return new MethodVisitor(Opcodes.ASM9) {
                            @Override
                            public void visitFieldInsn(int opcode, String fieldOwner, String field, String desc) {
                                if ((opcode == Opcodes.PUTFIELD || opcode == Opcodes.PUTSTATIC)
                                        && ROWS.contains(fieldOwner)) {
                                    found.add(where + " assigns " + fieldOwner + "." + field);
                                }
                            }

                            @Override
                            public void visitTypeInsn(int opcode, String type) {
                                if (opcode == Opcodes.NEW && ROWS.contains(type)) {
                                    found.add(where + " creates " + type);
                                }
                            }

                            @Override
                            public void visitMethodInsn(
                                    int opcode, String methodOwner, String method, String desc, boolean isInterface) {
                                if (ROWS.contains(methodOwner) && WRITE_METHODS.contains(method)) {
                                    found.add(where + " calls " + methodOwner + "." + method);
                                }
                            }

                            @Override
                            public void visitLdcInsn(Object value) {
                                if (value instanceof String s
                                        && WRITE_SQL.matcher(s).matches()) {
                                    found.add(where + " has SQL '" + s + "'");
                                }
                            }
                        };
                    }
                },
                0);
        return found;
    }
}
