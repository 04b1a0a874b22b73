package dev.keyhold.evidence;

import static org.assertj.core.api.Assertions.assertThat;

import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * The ledger writer's group commit over real PostgreSQL: it keeps the chain head in memory, so a second writer on the
 * same database (another instance) must make it re-read the head instead of forking the chain; and an entry it
 * acknowledged as durable survives the writer's process being killed (SIGKILL) right after.
 */
@QuarkusTest
class LedgerGroupCommitTest {

    private static final SecureRandom RANDOM = new SecureRandom();

    @Inject
    AgroalDataSource ds;

    @Test
    void twoWritersOnOneDatabaseMakeOneChain() throws Exception {
        LedgerChain.Head start;
        try (Connection c = ds.getConnection()) {
            start = LedgerChain.head(c);
        }
        Set<String> written = new HashSet<>();
        try (IssuanceLedger a = ledger("writer-a");
                IssuanceLedger b = ledger("writer-b")) {
            // a learns the head, b moves it, so a's head in memory is stale: a must re-read it, not fork the chain
            written.add(record(a, "a-1"));
            written.add(record(b, "b-1"));
            assertThat(a.headRereads()).isZero();
            written.add(record(a, "a-2"));
            assertThat(a.headRereads())
                    .as("a found the head moved by b and re-read it")
                    .isEqualTo(1);
            // then both at once, from several threads each
            List<CompletableFuture<Void>> all = new ArrayList<>();
            List<String> hashes = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                LedgerEntry e = entry("both-" + i);
                hashes.add(e.tokenSha256Hex());
                all.add((i % 2 == 0 ? a : b).recordAsync(e, false));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            written.addAll(hashes);
            assertThat(a.batchesWritten() + b.batchesWritten()).isGreaterThanOrEqualTo(4);
        }
        try (Connection c = ds.getConnection()) {
            Set<String> chained = LedgerChain.verifyFrom(c, start);
            assertThat(chained).containsAll(written);
        }
    }

    @Test
    void aLoneEntryIsNotKeptWaitingForTheLinger() throws Exception {
        // a linger far longer than the test may wait: a lone entry with no signature under way is written at once
        try (IssuanceLedger l = IssuanceLedger.start(
                ds::getConnection,
                Clock.systemUTC(),
                new IssuanceLedger.Settings(Duration.ofSeconds(30), 1000, 1000, Duration.ofSeconds(60), "lone"))) {
            l.recordAsync(entry("lone-1"), false).get(10, TimeUnit.SECONDS);
            // a signature under way is waited for, and its entry joins the same batch
            IssuanceLedger.Expected signing = l.expect();
            CompletableFuture<Void> first = l.recordAsync(entry("lone-2"), false);
            Thread.sleep(50);
            assertThat(first).as("the writer waits for the signature under way").isNotDone();
            CompletableFuture<Void> second = signing.record(entry("lone-3"), false);
            CompletableFuture.allOf(first, second).get(10, TimeUnit.SECONDS);
            assertThat(l.batchesWritten())
                    .as("lone-2 and lone-3 went out as one batch")
                    .isEqualTo(2);
            // a failed signature ends the wait as well
            IssuanceLedger.Expected failing = l.expect();
            CompletableFuture<Void> third = l.recordAsync(entry("lone-4"), false);
            failing.close();
            third.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void everyAcknowledgedEntrySurvivesSigkillAndTheChainVerifies() throws Exception {
        LedgerChain.Head start;
        try (Connection c = ds.getConnection()) {
            start = LedgerChain.head(c);
        }
        Config cfg = ConfigProvider.getConfig();
        ProcessBuilder pb = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        LedgerAckChild.class.getName())
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        Map<String, String> env = pb.environment();
        env.put("KH_JDBC_URL", cfg.getValue("quarkus.datasource.jdbc.url", String.class));
        env.put(
                "KH_JDBC_USER",
                cfg.getOptionalValue("quarkus.datasource.username", String.class)
                        .orElse(""));
        env.put(
                "KH_JDBC_PASSWORD",
                cfg.getOptionalValue("quarkus.datasource.password", String.class)
                        .orElse(""));
        Process p = pb.start();
        Set<String> acknowledged = new HashSet<>();
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("ACK ")) {
                    acknowledged.add(line.substring(4));
                    if (acknowledged.size() == 300) {
                        // killed while its writers keep going: no shutdown hook, no close, a batch maybe in flight.
                        // (kill(1), not destroyForcibly(): that also closes our end of the pipe, and the ACKs the
                        // child printed before it died must still be read.)
                        assertThat(new ProcessBuilder("kill", "-KILL", Long.toString(p.pid()))
                                        .start()
                                        .waitFor())
                                .isZero();
                    }
                }
            }
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        } finally {
            p.destroyForcibly();
        }
        assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(300);
        assertThat(p.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);
        // restart: a new writer chains onto whatever the dead one committed
        try (IssuanceLedger after = ledger("after-kill")) {
            record(after, "after-kill");
        }
        try (Connection c = ds.getConnection()) {
            Set<String> chained = LedgerChain.verifyFrom(c, start);
            assertThat(chained)
                    .as("every entry acknowledged before the kill is in the ledger")
                    .containsAll(acknowledged);
        }
    }

    private IssuanceLedger ledger(String node) {
        return IssuanceLedger.start(
                ds::getConnection,
                Clock.systemUTC(),
                new IssuanceLedger.Settings(Duration.ofMillis(2), 1000, 10_000, Duration.ofSeconds(20), node));
    }

    private static String record(IssuanceLedger l, String jti) {
        LedgerEntry e = entry(jti);
        l.record(e, false);
        return e.tokenSha256Hex();
    }

    static LedgerEntry entry(String jti) {
        byte[] h = new byte[32];
        RANDOM.nextBytes(h);
        long now = System.currentTimeMillis() / 1000;
        return new LedgerEntry(h, jti, "group-commit-kid", "group-commit", "sub-" + jti, "\"aud\"", now, now + 600);
    }
}
