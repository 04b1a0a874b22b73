package dev.keyhold.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped Prometheus rules and Grafana dashboard, checked by the real promtool (Debian package "prometheus",
 * installed by scripts/ensure-promtool.sh when missing): {@code promtool check rules}, {@code promtool test rules}
 * over ops/prometheus/tests (every alert firing and not firing), and every dashboard panel's query as a rule
 * expression. Also: every alert carries summary, description and runbook, and has a unit test.
 */
class OpsRulesTest {

    static final Path RULES = Path.of("ops/prometheus/keyhold-rules.yml");
    static final Path TESTS = Path.of("ops/prometheus/tests");
    static final Path DASHBOARD = Path.of("ops/grafana/keyhold.json");

    @BeforeAll
    static void promtool() throws Exception {
        if (run(List.of("bash", "-c", "command -v promtool")).code() != 0) {
            Result r = run(List.of("bash", "scripts/ensure-promtool.sh"));
            assertThat(r.code()).as("scripts/ensure-promtool.sh: " + r.output()).isZero();
        }
    }

    @Test
    void rulesPassPromtoolCheck() throws Exception {
        Result r = run(List.of("promtool", "check", "rules", RULES.toString()));
        assertThat(r.code()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS");
    }

    @Test
    void everyAlertHasRunbookAnnotationsAndUnitTestsThatPass() throws Exception {
        String rules = Files.readString(RULES);
        List<String> alerts = all(Pattern.compile("(?m)^\\s+- alert: (\\S+)$"), rules);
        assertThat(alerts).hasSizeGreaterThanOrEqualTo(14);
        String[] blocks = rules.split("(?m)^\\s+- alert: ");
        for (int i = 1; i < blocks.length; i++) {
            assertThat(blocks[i])
                    .as("alert " + alerts.get(i - 1))
                    .contains("summary:", "description:", "runbook:", "severity:");
        }
        List<Path> testFiles;
        try (var s = Files.list(TESTS)) {
            testFiles = s.filter(p -> p.toString().endsWith(".yml")).sorted().toList();
        }
        assertThat(testFiles).isNotEmpty();
        StringBuilder tests = new StringBuilder();
        for (Path f : testFiles) {
            tests.append(Files.readString(f));
        }
        for (String a : alerts) {
            // each alert has a case that expects it to fire (labels) and one that expects silence (exp_alerts: [])
            Matcher m = Pattern.compile("alertname: " + a + "\\n\\s+exp_alerts:\\n\\s+- exp_labels")
                    .matcher(tests);
            assertThat(m.find()).as("a firing test for " + a).isTrue();
            assertThat(tests.toString())
                    .as("a silent test for " + a)
                    .containsPattern("alertname: " + a + "\\n\\s+exp_alerts: \\[]");
        }
        List<String> cmd = new ArrayList<>(List.of("promtool", "test", "rules"));
        testFiles.forEach(p -> cmd.add(p.toString()));
        Result r = run(cmd);
        assertThat(r.code()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS").doesNotContain("FAILED");
    }

    @Test
    void promtoolTestsCanFail(@TempDir Path tmp) throws Exception {
        // A broken threshold must make the unit tests fail (the tests are not vacuous).
        String broken = Files.readString(RULES)
                .replace(
                        "keyhold_issuer_activation_request_expiry_seconds) < 6 * 3600",
                        "keyhold_issuer_activation_request_expiry_seconds) < 60 * 3600");
        assertThat(broken).isNotEqualTo(Files.readString(RULES));
        Files.createDirectories(tmp.resolve("tests"));
        Files.writeString(tmp.resolve("keyhold-rules.yml"), broken);
        Path t = tmp.resolve("tests/keyhold-rules.test.yml");
        Files.copy(TESTS.resolve("keyhold-rules.test.yml"), t);
        Result r = run(List.of("promtool", "test", "rules", t.toString()));
        assertThat(r.code()).as(r.output()).isNotZero();
        assertThat(r.output()).contains("KeyholdActivationRequestExpiringUnapproved");
    }

    @Test
    void everyDashboardQueryIsValidPromQl(@TempDir Path tmp) throws Exception {
        JsonNode dash = new ObjectMapper().readTree(DASHBOARD.toFile());
        List<String> exprs = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        collect(dash.path("panels"), exprs, titles);
        for (String required : List.of(
                "Issuers at risk",
                "Rotations overdue",
                "Open activation requests",
                "Tokens signed per second",
                "Sign latency",
                "HSM latency p99",
                "HSM errors per second",
                "Relay lag (seconds)",
                "Compromise suspected (last hour)",
                "Integrity violations (last hour)")) {
            assertThat(titles).contains(required);
        }
        assertThat(exprs).hasSizeGreaterThanOrEqualTo(25);
        StringBuilder rules = new StringBuilder("groups:\n  - name: keyhold-dashboard\n    rules:\n");
        for (int i = 0; i < exprs.size(); i++) {
            String e = grafanaVariables(exprs.get(i));
            assertThat(e).as("unreplaced Grafana variable in " + exprs.get(i)).doesNotContain("$");
            rules.append("      - record: keyhold_dashboard:query_")
                    .append(i)
                    .append('\n')
                    .append("        expr: '")
                    .append(e.replace("'", "''"))
                    .append("'\n");
        }
        Path f = tmp.resolve("dashboard-queries.yml");
        Files.writeString(f, rules);
        Result r = run(List.of("promtool", "check", "rules", f.toString()));
        assertThat(r.code()).as(r.output() + "\n" + rules).isZero();
        assertThat(r.output()).contains("SUCCESS: " + exprs.size() + " rules found");
        // a broken query is caught the same way
        Files.writeString(
                f, "groups:\n  - name: x\n    rules:\n      - record: x:y\n        expr: 'sum(rate(keyhold_x[5m])'\n");
        assertThat(run(List.of("promtool", "check", "rules", f.toString())).code())
                .isNotZero();
    }

    /** Grafana's variables as Grafana would substitute them (all issuers, a 5 m rate window). */
    static String grafanaVariables(String expr) {
        return expr.replace("$__rate_interval", "5m")
                .replace("$__interval", "1m")
                .replace("$__range", "1h")
                .replace("$issuer", ".*");
    }

    private static void collect(JsonNode panels, List<String> exprs, List<String> titles) {
        for (JsonNode p : panels) {
            if ("row".equals(p.path("type").asText())) {
                collect(p.path("panels"), exprs, titles);
                continue;
            }
            titles.add(p.path("title").asText());
            assertThat(p.path("targets").size())
                    .as("panel " + p.path("title").asText() + " has a query")
                    .isPositive();
            for (JsonNode t : p.path("targets")) {
                String e = t.path("expr").asText();
                assertThat(e).as("panel " + p.path("title").asText()).isNotBlank();
                exprs.add(e);
            }
        }
    }

    private static List<String> all(Pattern p, String s) {
        List<String> out = new ArrayList<>();
        Matcher m = p.matcher(s);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    record Result(int code, String output) {}

    static Result run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + cmd);
        }
        return new Result(p.exitValue(), out);
    }
}
