package dev.keyhold.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * The trust aggregate's SQL lives in its stores only: {@code trust_key} in {@link TrustKeys}, {@code trust_bundle}
 * and {@code trust_bundle_signature} in {@link TrustBundleStore}, reads as well as writes. Read from the string
 * constants of the compiled main classes (nested and lambda code counts as its outer class), so SQL cannot hide in a
 * helper. No exceptions: no Panache entity maps these tables.
 */
class TrustStoreOwnershipTest {

    private static final Map<String, String> OWNERS = Map.of(
            "trust_key", "dev/keyhold/trust/TrustKeys",
            "trust_bundle", "dev/keyhold/trust/TrustBundleStore",
            "trust_bundle_signature", "dev/keyhold/trust/TrustBundleStore");

    private static final String SELF = "dev/keyhold/trust/TrustStoreOwnershipTest";

    @Test
    void trustTablesAreNamedOnlyByTheirStores() throws IOException {
        Path classes = Path.of("target/classes/dev/keyhold");
        assertTrue(Files.isDirectory(classes), "compiled main classes expected at " + classes.toAbsolutePath());
        Map<String, Set<String>> users = new TreeMap<>();
        List<String> outside = new ArrayList<>();
        int scanned;
        try (Stream<Path> files = Files.walk(classes)) {
            List<Path> all = files.filter(f -> f.toString().endsWith(".class")).toList();
            scanned = all.size();
            for (Path f : all) {
                try (InputStream in = Files.newInputStream(f)) {
                    scan(new ClassReader(in), users, outside);
                }
            }
        }
        assertTrue(scanned > 100, "scanned only " + scanned + " classes");
        assertEquals(List.of(), outside, "SQL on trust tables outside their store");
        for (Map.Entry<String, String> e : OWNERS.entrySet()) {
            // the scan sees each store's own SQL (else it could not see anyone else's either)
            assertEquals(Set.of(e.getValue()), users.get(e.getKey()), "classes with SQL on " + e.getKey());
        }
    }

    /** The scan finds SQL naming each table, in a nested class and in a lambda, and tells the tables apart. */
    @Test
    void theScanSeesAPlantedViolation() throws IOException {
        Map<String, Set<String>> users = new TreeMap<>();
        List<String> outside = new ArrayList<>();
        try (InputStream in =
                TrustStoreOwnershipTest.class.getResourceAsStream("TrustStoreOwnershipTest$Violations.class")) {
            scan(new ClassReader(in), users, outside);
        }
        assertEquals(Set.of(SELF), users.get("trust_key"), String.valueOf(users));
        assertEquals(Set.of(SELF), users.get("trust_bundle"), String.valueOf(users));
        assertEquals(Set.of(SELF), users.get("trust_bundle_signature"), String.valueOf(users));
        String all = String.join("\n", outside);
        assertTrue(all.contains("trust_bundle_signature: 'select jws from trust_bundle_signature"), all);
        assertTrue(all.contains("trust_bundle: 'INSERT INTO trust_bundle ("), all);
        assertTrue(all.contains("trust_bundle: 'select b.issuer_id from issuer i join trust_bundle b"), all); // lambda
        assertTrue(all.contains("trust_key: 'update\n trust_key set"), all);
        // four statements, one table each: trust_bundle_signature is not trust_bundle
        assertEquals(4, outside.size(), all);
    }

    private static void scan(ClassReader reader, Map<String, Set<String>> users, List<String> outside) {
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
                                if (!(value instanceof String sql)) {
                                    return;
                                }
                                OWNERS.forEach((table, store) -> {
                                    if (Pattern.compile("(?is).*\\b(from|join|into|update)\\s+" + table + "\\b.*")
                                            .matcher(sql)
                                            .matches()) {
                                        users.computeIfAbsent(table, t -> new TreeSet<>())
                                                .add(outer);
                                        if (!outer.equals(store)) {
                                            outside.add(owner + "." + name + " names " + table + ": '" + sql + "'");
                                        }
                                    }
                                });
                            }
                        };
                    }
                },
                0);
    }

    @SuppressWarnings("unused")
    private static final class Violations {
        String read() {
            return "select jws from trust_bundle_signature where issuer_id = ?1";
        }

        String write() {
            return "INSERT INTO trust_bundle (issuer_id, sequence) values (?1, ?2)";
        }

        String inLambda() {
            Supplier<String> sql = () -> "select b.issuer_id from issuer i join trust_bundle b on b.issuer_id = i.id";
            return sql.get();
        }

        String key() {
            return "update\n trust_key set state = 'RETIRED'";
        }
    }
}
