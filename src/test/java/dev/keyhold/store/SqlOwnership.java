package dev.keyhold.store;

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
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.Handle;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Which compiled classes hold SQL naming a table ({@code from|join|into|update <table>}, case-insensitive), for the
 * store ownership tests: each aggregate's tables are named in SQL by its store only. Read from the compiled main
 * classes (javac's bytecode) as {@code command/SingleWriterTest} does: string constants ({@code ldc}) and the
 * constant parts of string concatenations (the recipes of {@code invokedynamic makeConcatWithConstants}, where
 * javac puts a constant that is joined with a variable); nested and lambda classes count as their outer class.
 */
public final class SqlOwnership {

    private static final Path MAIN = Path.of("target/classes/dev/keyhold");

    private SqlOwnership() {}

    /** Table → the classes (internal names, e.g. {@code dev/keyhold/store/IssuerStore}) whose SQL names it. */
    public static Map<String, Set<String>> inMainClasses(Set<String> tables) throws IOException {
        assertTrue(Files.isDirectory(MAIN), "compiled main classes expected at " + MAIN.toAbsolutePath());
        Map<String, Set<String>> found = new TreeMap<>();
        int scanned = 0;
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(x -> x.toString().endsWith(".class")).toList()) {
                try (InputStream in = Files.newInputStream(f)) {
                    scan(new ClassReader(in), tables, found);
                }
                scanned++;
            }
        }
        assertTrue(scanned > 100, "scanned only " + scanned + " classes");
        return found;
    }

    /** The same for one class, read from the test classpath: the self-checks scan a planted violation with it. */
    public static Map<String, Set<String>> in(Class<?> c, Set<String> tables) throws IOException {
        Map<String, Set<String>> found = new TreeMap<>();
        String file = c.getName().substring(c.getName().lastIndexOf('.') + 1) + ".class";
        try (InputStream in = c.getResourceAsStream(file)) {
            assertTrue(in != null, "class file of " + c.getName() + " not found");
            scan(new ClassReader(in), tables, found);
        }
        return found;
    }

    /**
     * Asserts that only the allowed classes name each table in SQL, and that {@code store} does name each of
     * {@code storeTables} (else the scan is broken and would pass anything).
     */
    public static void assertOwned(Map<String, Set<String>> allowed, String store, String... storeTables)
            throws IOException {
        Map<String, Set<String>> found = inMainClasses(allowed.keySet());
        List<String> violations = new ArrayList<>();
        found.forEach((table, users) -> {
            for (String user : users) {
                if (!allowed.get(table).contains(user)) {
                    violations.add(user + " has SQL naming " + table);
                }
            }
        });
        assertEquals(List.of(), violations, "SQL for these tables belongs in " + store);
        for (String table : storeTables) {
            assertTrue(
                    found.getOrDefault(table, Set.of()).contains(store),
                    "no SQL naming " + table + " found in " + store + ": the scan is broken (found " + found + ")");
        }
    }

    static Pattern naming(String table) {
        return Pattern.compile("(?is).*\\b(from|join|into|update)\\s+" + Pattern.quote(table) + "\\b.*");
    }

    private static void scan(ClassReader reader, Set<String> tables, Map<String, Set<String>> found) {
        String owner = reader.getClassName();
        String outer = owner.contains("$") ? owner.substring(0, owner.indexOf('$')) : owner;
        Map<String, Pattern> patterns = new TreeMap<>();
        for (String t : tables) {
            patterns.put(t, naming(t));
        }
        reader.accept(
                new ClassVisitor(Opcodes.ASM9) {
                    @Override
                    public MethodVisitor visitMethod(
                            int access, String name, String descriptor, String signature, String[] exceptions) {
                        return new MethodVisitor(Opcodes.ASM9) {
                            @Override
                            public void visitLdcInsn(Object value) {
                                check(value);
                            }

                            @Override
                            public void visitInvokeDynamicInsn(
                                    String name, String descriptor, Handle bootstrap, Object... arguments) {
                                for (Object a : arguments) {
                                    check(a);
                                }
                            }

                            private void check(Object value) {
                                if (value instanceof String sql) {
                                    patterns.forEach((table, p) -> {
                                        if (p.matcher(sql).matches()) {
                                            found.computeIfAbsent(table, x -> new TreeSet<>())
                                                    .add(outer);
                                        }
                                    });
                                }
                            }
                        };
                    }
                },
                0);
    }
}
