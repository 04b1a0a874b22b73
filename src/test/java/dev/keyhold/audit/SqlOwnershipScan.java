package dev.keyhold.audit;

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
import org.objectweb.asm.FieldVisitor;
import org.objectweb.asm.Handle;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Which compiled classes carry SQL naming a table ({@code from|join|into|update <table>}, any case): read from the
 * string constants of the bytecode (javac's, before Quarkus rewrites anything), so SQL cannot hide in a lambda, a
 * nested class or a helper. Nested and lambda classes count as their outer class. Constants are the {@code ldc}
 * operands, constant field values and the recipes of string concatenations ({@code invokedynamic} arguments), so a
 * query built by concatenating a value into it is seen too. Shared by the audit and the outbox ownership tests.
 */
final class SqlOwnershipScan {

    static final Path CLASSES = Path.of("target/classes/dev/keyhold");

    private SqlOwnershipScan() {}

    /** Table → the (outer) classes under {@link #CLASSES} whose constants name it in SQL. */
    static Map<String, Set<String>> users(Set<String> tables) throws IOException {
        if (!Files.isDirectory(CLASSES)) {
            throw new IllegalStateException("compiled main classes expected at " + CLASSES.toAbsolutePath());
        }
        Map<String, Set<String>> users = new TreeMap<>();
        List<Path> all;
        try (Stream<Path> files = Files.walk(CLASSES)) {
            all = files.filter(f -> f.toString().endsWith(".class")).toList();
        }
        if (all.size() < 100) {
            throw new IllegalStateException("scanned only " + all.size() + " classes");
        }
        for (Path f : all) {
            try (InputStream in = Files.newInputStream(f)) {
                scan(new ClassReader(in), tables, users);
            }
        }
        return users;
    }

    /** The same scan of one class, e.g. a test's planted violation. */
    static Map<String, Set<String>> users(Class<?> type, Set<String> tables) throws IOException {
        Map<String, Set<String>> users = new TreeMap<>();
        String resource = type.getName().substring(type.getName().lastIndexOf('.') + 1) + ".class";
        try (InputStream in = type.getResourceAsStream(resource)) {
            scan(new ClassReader(in), tables, users);
        }
        return users;
    }

    /** Classes other than {@code store} and the {@code allowed} exceptions that name one of {@code tables}. */
    static List<String> violations(Map<String, Set<String>> users, String store, Set<String> allowed) {
        List<String> found = new ArrayList<>();
        users.forEach((table, classes) -> classes.stream()
                .filter(c -> !c.equals(store) && !allowed.contains(c))
                .forEach(c -> found.add(c + " holds SQL on " + table)));
        return found;
    }

    private static void scan(ClassReader reader, Set<String> tables, Map<String, Set<String>> users) {
        String owner = reader.getClassName();
        String outer = owner.contains("$") ? owner.substring(0, owner.indexOf('$')) : owner;
        List<Pattern> patterns = tables.stream()
                .map(t -> Pattern.compile("(?i)\\b(from|join|into|update)\\s+" + Pattern.quote(t) + "\\b"))
                .toList();
        List<String> names = List.copyOf(tables);
        java.util.function.Consumer<Object> constant = value -> {
            if (value instanceof String s) {
                for (int i = 0; i < names.size(); i++) {
                    if (patterns.get(i).matcher(s).find()) {
                        users.computeIfAbsent(names.get(i), t -> new TreeSet<>())
                                .add(outer);
                    }
                }
            }
        };
        reader.accept(
                new ClassVisitor(Opcodes.ASM9) {
                    @Override
                    public FieldVisitor visitField(
                            int access, String name, String descriptor, String signature, Object value) {
                        constant.accept(value);
                        return null;
                    }

                    @Override
                    public MethodVisitor visitMethod(
                            int access, String name, String descriptor, String signature, String[] exceptions) {
                        return new MethodVisitor(Opcodes.ASM9) {
                            @Override
                            public void visitLdcInsn(Object value) {
                                constant.accept(value);
                            }

                            @Override
                            public void visitInvokeDynamicInsn(
                                    String name, String descriptor, Handle bootstrap, Object... arguments) {
                                for (Object a : arguments) {
                                    constant.accept(a);
                                }
                            }
                        };
                    }
                },
                0);
    }
}
