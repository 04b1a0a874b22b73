package dev.keyhold.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Rows are read by column name, never by position: no {@code Object[]} rows from native queries, no
 * {@code (String) row[0]}, no {@code rs.getString(1)}. A renamed or reordered column then fails where the name is read, instead
 * of silently shifting every value after it. Read from the main sources (the patterns are textual).
 */
class RowMappingTest {

    /** ResultSet getters with a column index. */
    static final Pattern JDBC_BY_INDEX = Pattern.compile(
            "\\.get(String|Long|Int|Short|Timestamp|Object|Bytes|Boolean|Array|BigDecimal|Double|Date)\\(\\s*\\d+\\s*[,)]");

    /** A native query's row as an array, or an element of such a row by position. */
    static final Pattern ARRAY_ROW =
            Pattern.compile("\\(\\s*Object\\s*\\[\\s*]\\s*\\)|List<Object\\[]>|\\bObject\\[]\\s+\\w+\\s*[:=]");

    /** A JPA Tuple element by position. */
    static final Pattern TUPLE_BY_INDEX = Pattern.compile("\\.get\\(\\s*\\d+\\s*,\\s*[\\w.]+\\.class\\)");

    /** Files that read rows at all: queries through JPA or JDBC. */
    static final Pattern READS_ROWS =
            Pattern.compile("createNativeQuery|createQuery|getResultList|getSingleResult|ResultSet");

    @Test
    void noRowIsReadByPosition() throws IOException {
        assertThat(findings(Path.of("src/main/java"))).isEmpty();
    }

    /** The patterns catch each positional form (else the test above could never fail). */
    @Test
    void thePatternsSeeEachForm() {
        assertThat(hits("String kid = rs.getString(1);")).hasSize(1);
        assertThat(hits("long seq = rs.getLong( 2 );")).hasSize(1);
        assertThat(hits("Object x = rs.getObject(3, Instant.class);")).hasSize(1);
        assertThat(hits("Object[] r = (Object[]) q.getSingleResult();")).hasSize(1);
        assertThat(hits("for (Object[] o : (List<Object[]>) q.getResultList()) {"))
                .hasSize(1);
        assertThat(hits("String kid = t.get(0, String.class);")).hasSize(1);
        assertThat(hits("String kid = rs.getString(\"kid\");")).isEmpty();
        assertThat(hits("String kid = t.get(\"kid\", String.class);")).isEmpty();
        assertThat(hits("byte[] digest = new byte[32];")).isEmpty();
    }

    private static List<String> hits(String line) {
        List<String> out = new ArrayList<>();
        for (Pattern p : List.of(JDBC_BY_INDEX, TUPLE_BY_INDEX, ARRAY_ROW)) {
            Matcher m = p.matcher(line);
            if (m.find()) {
                out.add(m.group());
            }
        }
        return out;
    }

    private static List<String> findings(Path root) throws IOException {
        assertThat(root).isDirectory();
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(x -> x.toString().endsWith(".java")).toList()) {
                List<String> lines = Files.readAllLines(f);
                if (!READS_ROWS.matcher(String.join("\n", lines)).find()) {
                    continue; // no rows here (an Object[] of reflection or varargs is not a row)
                }
                for (int i = 0; i < lines.size(); i++) {
                    String line = lines.get(i).strip();
                    if (line.startsWith("*") || line.startsWith("//")) {
                        continue;
                    }
                    for (String h : hits(line)) {
                        found.add(f + ":" + (i + 1) + ": " + h + "   <- " + line);
                    }
                }
            }
        }
        return found;
    }
}
