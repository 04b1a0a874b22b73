package dev.keyhold.evidence;

import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;

/**
 * A ledger writer process for {@link LedgerGroupCommitTest}: four threads record entries through the real
 * {@link IssuanceLedger} as fast as it commits them, and print {@code ACK <sha256 hex>} for each entry only once
 * it is durable (as the sign path hands a token out only then). It never stops by itself: the parent kills it with
 * SIGKILL. Database from the environment ({@code KH_JDBC_URL}, {@code KH_JDBC_USER}, {@code KH_JDBC_PASSWORD}).
 */
public final class LedgerAckChild {

    private LedgerAckChild() {}

    public static void main(String[] args) throws Exception {
        IssuanceLedger ledger = IssuanceLedger.start(
                () -> DriverManager.getConnection(
                        System.getenv("KH_JDBC_URL"), System.getenv("KH_JDBC_USER"), System.getenv("KH_JDBC_PASSWORD")),
                Clock.systemUTC(),
                new IssuanceLedger.Settings(Duration.ofMillis(2), 1000, 10_000, Duration.ofSeconds(60), "ack-child"));
        for (int t = 0; t < 4; t++) {
            int thread = t;
            Thread w = new Thread(() -> {
                for (int i = 0; ; i++) {
                    IssuanceLedger.Expected signing = ledger.expect();
                    LedgerEntry e = LedgerGroupCommitTest.entry("ack-" + thread + "-" + i);
                    signing.record(e, false).join();
                    say("ACK " + e.tokenSha256Hex());
                }
            });
            w.start();
        }
        Thread.currentThread().join();
    }

    private static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
