package dev.keyhold.ops;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The series the alert rules in ops/prometheus read, scraped from /q/metrics after real rotations; and the promise
 * that a scrape reads the cached view (a database change shows only after a refresh, the clock moves the values).
 */
@QuarkusTest
class OperationsMetricsTest {

    @Inject
    Lifecycle lifecycle;

    @Inject
    OperationsMetrics ops;

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @Test
    void rotationShowsPendingSuccessorOpenRequestAndDeadlinesPerIssuer() {
        String id = Api.createIssuer("opsm");
        lifecycle.activeKey(id);
        String pending = Api.rotate(id);
        ops.refresh();
        String m = scrape();
        // activeDeadline P45D from activation; the clock moved past publishLead (2 h) before activation
        assertThat(value(m, "keyhold_issuer_active_key_expiry_seconds", id))
                .isCloseTo(45 * 86400.0, within(3 * 3600.0));
        assertThat(value(m, "keyhold_issuer_rotation_due_seconds", id)).isCloseTo(30 * 86400.0, within(3 * 3600.0));
        assertThat(value(m, "keyhold_issuer_active_key", id)).isEqualTo(1.0);
        assertThat(value(m, "keyhold_issuer_successor_pending", id)).isEqualTo(1.0);
        assertThat(value(m, "keyhold_issuer_successor_approved", id)).isEqualTo(0.0);
        assertThat(value(m, "keyhold_issuer_suspended", id)).isEqualTo(0.0);
        assertThat(value(m, "keyhold_issuer_activation_requests_open", id)).isEqualTo(1.0);
        // approvalTtl P2D
        assertThat(value(m, "keyhold_issuer_activation_request_expiry_seconds", id))
                .isCloseTo(2 * 86400.0, within(60.0));
        assertThat(m).containsPattern("keyhold_hsm_partition_up\\{partition=\"default\"} 1.0");
        assertThat(m)
                .contains(
                        "keyhold_audit_checkpoint_age_seconds",
                        "keyhold_audit_uncheckpointed_seconds",
                        "keyhold_ledger_checkpoint_age_seconds",
                        "keyhold_ledger_uncheckpointed_seconds",
                        "keyhold_canary_passing",
                        "keyhold_ops_view_age_seconds");
        // no kid ever becomes a label
        assertThat(m).doesNotContain(pending);

        // The clock moves the values between refreshes; the database does not (no query per scrape).
        double before = value(m, "keyhold_issuer_active_key_expiry_seconds", id);
        UUID request = (UUID) sql.one("select id from activation_request where kid = ? and state = 'OPEN'", pending);
        sql.exec(
                "update activation_request set state = 'APPROVED', decided_at = ? where id = ?",
                clock.instant(),
                request);
        clock.advance(Duration.ofHours(1));
        m = scrape();
        assertThat(value(m, "keyhold_issuer_active_key_expiry_seconds", id)).isCloseTo(before - 3600, within(5.0));
        assertThat(value(m, "keyhold_issuer_successor_approved", id)).isEqualTo(0.0);
        assertThat(value(m, "keyhold_issuer_activation_requests_open", id)).isEqualTo(1.0);

        ops.refresh();
        m = scrape();
        assertThat(value(m, "keyhold_issuer_successor_approved", id)).isEqualTo(1.0);
        assertThat(value(m, "keyhold_issuer_activation_requests_open", id)).isEqualTo(0.0);
        assertThat(valueText(m, "keyhold_issuer_activation_request_expiry_seconds", id))
                .isEqualTo("NaN");
    }

    @Test
    void suspendedIssuerWithoutKeyReportsNoActiveKey() {
        String id = Api.createIssuer("opss");
        Api.as("admin")
                .body("{\"reason\":\"ops metrics test\"}")
                .post("/v1/issuers/" + id + "/suspend")
                .then()
                .statusCode(200);
        ops.refresh();
        String m = scrape();
        assertThat(value(m, "keyhold_issuer_suspended", id)).isEqualTo(1.0);
        assertThat(value(m, "keyhold_issuer_active_key", id)).isEqualTo(0.0);
        assertThat(valueText(m, "keyhold_issuer_active_key_expiry_seconds", id)).isEqualTo("NaN");
    }

    @Test
    void everyMetricTheRulesAndTheDashboardReadIsOneKeyholdExports() throws Exception {
        String id = Api.createIssuer("opsn");
        lifecycle.activeKey(id);
        Api.as("signer")
                .body(java.util.Map.of("claims", dev.keyhold.testsupport.Tokens.claims(id)))
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(200);
        ops.refresh();
        String m = scrape();
        java.util.Set<String> exported = new java.util.TreeSet<>();
        Matcher e = Pattern.compile("(?m)^(keyhold_[a-z0-9_]+)").matcher(m);
        while (e.find()) {
            exported.add(e.group(1));
        }
        String used = java.nio.file.Files.readString(java.nio.file.Path.of("ops/prometheus/keyhold-rules.yml"))
                + java.nio.file.Files.readString(java.nio.file.Path.of("ops/grafana/keyhold.json"));
        java.util.Set<String> referenced = new java.util.TreeSet<>();
        Matcher r = Pattern.compile("\\b(keyhold_[a-z0-9_]+)").matcher(used);
        while (r.find()) {
            if (!r.group(1).startsWith("keyhold_dashboard") && !r.group(1).endsWith("_")) {
                referenced.add(r.group(1));
            }
        }
        assertThat(referenced).hasSizeGreaterThan(20);
        // Series that exist only after an event (an HSM error, a relay to Kafka, a report) are not in this scrape:
        // those must at least be named, in Micrometer's dotted form, by the service's code.
        StringBuilder sources = new StringBuilder();
        try (var files = java.nio.file.Files.walk(java.nio.file.Path.of("src/main/java"))) {
            for (java.nio.file.Path f :
                    files.filter(x -> x.toString().endsWith(".java")).toList()) {
                sources.append(java.nio.file.Files.readString(f));
            }
        }
        for (String name : referenced) {
            if (exported.contains(name) || exported.stream().anyMatch(x -> x.startsWith(name + "_"))) {
                continue; // a series, or a histogram's base name in a runbook text
            }
            String dotted = name.replaceAll("_(total|bucket|count|sum)$", "").replace('_', '.');
            assertThat(sources.indexOf("\"" + dotted + "\""))
                    .as(name + " is neither in /q/metrics nor named by the code")
                    .isNotNegative();
        }
    }

    static String scrape() {
        return given().get("/q/metrics").then().statusCode(200).extract().asString();
    }

    static String valueText(String metrics, String name, String issuer) {
        Matcher x = Pattern.compile(
                        "(?m)^" + Pattern.quote(name) + "\\{issuer=\"" + Pattern.quote(issuer) + "\"} (\\S+)$")
                .matcher(metrics);
        assertThat(x.find()).as(name + "{issuer=" + issuer + "} in /q/metrics").isTrue();
        return x.group(1);
    }

    static double value(String metrics, String name, String issuer) {
        return Double.parseDouble(valueText(metrics, name, issuer));
    }
}
