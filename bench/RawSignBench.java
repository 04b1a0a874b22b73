import dev.keyhold.hsm.EmbeddedHsm;
import dev.keyhold.hsm.SigningAlgorithm;
import dev.keyhold.hsm.SunPkcs11Hsm;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Raw SunPKCS11 signing rate on the embedded token of a Keyhold data directory: a key of its own (generated and
 * destroyed here), signing the given signing input (header.payload of a real Keyhold token) in a loop.
 *
 * Run with the packaged application's class path (single-file source launch):
 *   java -cp 'target/quarkus-app/lib/boot/*:target/quarkus-app/lib/main/*:target/quarkus-app/app/*' bench/RawSignBench.java DATA_DIR ALG THREADS SECONDS INPUT
 * Prints: raw ALG THREADS RATE
 */
public class RawSignBench {
    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        SigningAlgorithm alg = SigningAlgorithm.valueOf(args[1]);
        int threads = Integer.parseInt(args[2]);
        int seconds = Integer.parseInt(args[3]);
        byte[] input = args[4].getBytes(StandardCharsets.US_ASCII);
        Map<String, String> c = EmbeddedHsm.prepare(dataDir, List.of("default", "audit"));
        String p = "keyhold.hsm.partitions.default.";
        SunPkcs11Hsm hsm = new SunPkcs11Hsm(Map.of("default", new SunPkcs11Hsm.PartitionSettings(
                c.get(p + "library"), Integer.valueOf(c.get(p + "slot")), null, c.get(p + "pin"))));
        String handle = "bench-raw-" + alg + "-" + ProcessHandle.current().pid();
        hsm.generate("default", handle, alg);
        try {
            for (int i = 0; i < 300; i++) {
                hsm.sign("default", handle, alg, input); // warm-up
            }
            LongAdder n = new LongAdder();
            AtomicBoolean stop = new AtomicBoolean();
            Thread[] ts = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                ts[t] = new Thread(() -> {
                    while (!stop.get()) {
                        hsm.sign("default", handle, alg, input);
                        n.increment();
                    }
                });
                ts[t].start();
            }
            long start = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            stop.set(true);
            for (Thread t : ts) {
                t.join();
            }
            double rate = n.sum() / ((System.nanoTime() - start) / 1e9);
            System.out.printf("raw %s %d %.0f%n", alg, threads, rate);
        } finally {
            hsm.destroy("default", handle);
        }
    }
}
