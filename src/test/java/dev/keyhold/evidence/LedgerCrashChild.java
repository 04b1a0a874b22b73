package dev.keyhold.evidence;

import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.SunPkcs11Hsm;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Keyhold signer that dies between signing and the ledger commit. It signs in the HSM and records through the
 * real {@link IssuanceLedger} exactly as the sign path does ({@code record(entry, bestEffort)}, then hand out), and
 * prints {@code TOKEN <jws>} for each token it hands out. Protocol on stdin/stdout with the parent:
 * <ol>
 *   <li>signs three tokens and prints them, then {@code READY};
 *   <li>on a line from the parent (which then holds the ledger head's row lock, so the next batch cannot commit),
 *       signs three more on three threads and prints {@code SIGNED} once all three are queued;
 *   <li>on the next line, {@link Runtime#halt}s: no shutdown hook, no flush, no commit.
 * </ol>
 * Usage: {@code strict|best-effort <partition> <handle> <kid> <issuerUri> <audience>}; HSM and database from the
 * environment as for {@code lifecycle/CrashChild}.
 */
public final class LedgerCrashChild {

    private LedgerCrashChild() {}

    public static void main(String[] args) throws Exception {
        boolean bestEffort = args[0].equals("best-effort");
        String partition = args[1];
        String handle = args[2];
        String kid = args[3];
        String iss = args[4];
        String aud = args[5];
        SunPkcs11Hsm hsm = new SunPkcs11Hsm(Map.of(
                partition,
                new SunPkcs11Hsm.PartitionSettings(
                        System.getenv("KH_LIBRARY"),
                        Integer.valueOf(System.getenv("KH_SLOT")),
                        null,
                        System.getenv("KH_PIN"))));
        IssuanceLedger ledger = IssuanceLedger.start(
                () -> DriverManager.getConnection(
                        System.getenv("KH_JDBC_URL"), System.getenv("KH_JDBC_USER"), System.getenv("KH_JDBC_PASSWORD")),
                Clock.systemUTC(),
                new IssuanceLedger.Settings(Duration.ofMillis(2), 1000, 1000, Duration.ofSeconds(60), "crash-child"));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        AtomicInteger n = new AtomicInteger();
        for (int i = 0; i < 3; i++) {
            signAndHandOut(hsm, ledger, partition, handle, kid, iss, aud, n.incrementAndGet(), bestEffort);
        }
        // Best effort handed these out before they were durable; let them land before the parent blocks the head,
        // so the window tested below is exactly the second three.
        while (ledger.tokensWritten() < 3) {
            Thread.onSpinWait();
        }
        say("READY");
        in.readLine();
        AtomicInteger queued = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int no = n.incrementAndGet();
            Thread t = new Thread(() -> {
                String token = sign(hsm, partition, handle, kid, iss, aud, no);
                LedgerEntry e = entry(token, kid, iss, no);
                if (bestEffort) {
                    ledger.record(e, true);
                    say("TOKEN " + token);
                    queued.incrementAndGet();
                } else {
                    var durable = ledger.append(e);
                    queued.incrementAndGet();
                    durable.join(); // never returns: the parent holds the head
                    say("TOKEN " + token);
                }
            });
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        while (queued.get() < 3) {
            Thread.onSpinWait();
        }
        say("SIGNED");
        in.readLine();
        say("HALTING");
        Runtime.getRuntime().halt(1);
    }

    private static void signAndHandOut(
            SunPkcs11Hsm hsm,
            IssuanceLedger ledger,
            String partition,
            String handle,
            String kid,
            String iss,
            String aud,
            int no,
            boolean bestEffort) {
        String token = sign(hsm, partition, handle, kid, iss, aud, no);
        ledger.record(entry(token, kid, iss, no), bestEffort);
        say("TOKEN " + token);
    }

    private static LedgerEntry entry(String token, String kid, String iss, int no) {
        long now = System.currentTimeMillis() / 1000;
        return new LedgerEntry(
                LedgerHash.sha256(token.getBytes(StandardCharsets.US_ASCII)),
                "crash-" + no,
                kid,
                System.getenv("KH_ISSUER_ID"),
                "crash-user",
                "\"aud\"",
                now,
                now + 600);
    }

    private static String sign(
            SunPkcs11Hsm hsm, String partition, String handle, String kid, String iss, String aud, int no) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        long now = System.currentTimeMillis() / 1000;
        String header = "{\"alg\":\"ES256\",\"kid\":\"" + kid + "\",\"typ\":\"JWT\"}";
        String payload = "{\"iss\":\"" + iss + "\",\"sub\":\"crash-user\",\"aud\":\"" + aud + "\",\"jti\":\"crash-" + no
                + "-" + System.nanoTime() + "\",\"iat\":" + now + ",\"exp\":" + (now + 600) + "}";
        String input = b64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(payload.getBytes(StandardCharsets.UTF_8));
        byte[] sig = hsm.sign(partition, handle, SigningAlgorithm.ES256, input.getBytes(StandardCharsets.US_ASCII));
        return input + "." + b64.encodeToString(sig);
    }

    private static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
