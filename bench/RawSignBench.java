import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.EmbeddedHsm;
import dev.keyhold.hsm.SunPkcs11Hsm;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Security;
import java.security.Signature;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Raw signing rates on the embedded token of a Keyhold data directory, signing the given signing input
 * (header.payload of a real Keyhold token) in a loop:
 *
 * - "raw": the JDK's SunPKCS11 provider on its own (the issue's reference) with a persistent token key found
 *   through its PKCS11 KeyStore, one Signature per thread initialised once and reused (update + sign per
 *   signature), the most favourable way to drive the provider;
 * - "adapter": Keyhold's HSM port (SunPkcs11Hsm.sign) on the same key, in this process, for reference.
 *
 * Run with the packaged application's class path (single-file source launch):
 *   java --add-exports=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED \
 *     -cp 'target/quarkus-app/lib/boot/*:target/quarkus-app/lib/main/*:target/quarkus-app/app/*' \
 *     bench/RawSignBench.java DATA_DIR ALG THREADS SECONDS INPUT
 * Prints: raw ALG THREADS RATE CPU_US, then adapter ALG THREADS RATE CPU_US, where CPU_US is the CPU time (user +
 * system) the signing threads used per signature: comparable with the server's per-request CPU by thread from
 * bench/sign-overhead.sh (THREADS_CPU=1).
 *
 * With a sixth argument {@code --serve} it keeps the key and waits instead: each line "raw" or "adapter" read from
 * standard input runs one window of SECONDS and prints its line; end of input ends it. bench/sign-throughput.sh
 * uses this to alternate raw and HTTP windows, so that both sides of each ratio see the same machine.
 */
public class RawSignBench {

    interface Signer {
        void sign() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        SigningAlgorithm alg = SigningAlgorithm.valueOf(args[1]);
        int threads = Integer.parseInt(args[2]);
        int seconds = Integer.parseInt(args[3]);
        byte[] input = args[4].getBytes(StandardCharsets.US_ASCII);
        Map<String, String> c = EmbeddedHsm.prepare(dataDir, List.of("default", "audit"));
        String p = "keyhold.hsm.partitions.default.";
        String library = c.get(p + "library");
        String slot = c.get(p + "slot");
        String pin = c.get(p + "pin");

        // One persistent key in the token, as Keyhold signs with (a session key would skip SoftHSM2's per-use
        // check of the object's file and flatter the provider). Made through the adapter, which writes the layout
        // the PKCS11 KeyStore reads.
        SunPkcs11Hsm hsm = new SunPkcs11Hsm(
                Map.of("default", new SunPkcs11Hsm.PartitionSettings(library, Integer.valueOf(slot), null, pin)));
        String handle = "bench-raw-" + alg + "-" + ProcessHandle.current().pid();
        hsm.generate("default", handle, alg);
        try {
            // SunPKCS11 alone, on that key.
            Provider provider = Security.getProvider("SunPKCS11")
                    .configure("--name = rawbench\nlibrary = " + library + "\nslot = " + slot + "\n");
            KeyStore ks = KeyStore.getInstance("PKCS11", provider);
            ks.load(null, pin.toCharArray());
            PrivateKey key = (PrivateKey) ks.getKey(handle, null);
            ThreadLocal<Signature> signatures = ThreadLocal.withInitial(() -> {
                try {
                    Signature s = Signature.getInstance(alg.jcaSignatureName(), provider);
                    if (alg.signatureParams() != null) {
                        s.setParameter(alg.signatureParams());
                    }
                    s.initSign(key);
                    return s;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Signer raw = () -> {
                Signature s = signatures.get();
                s.update(input);
                s.sign();
            };
            // Keyhold's adapter, same key.
            Signer adapter = () -> hsm.sign("default", handle, alg, input);
            if (args.length > 5 && args[5].equals("--serve")) {
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
                for (String line; (line = in.readLine()) != null; ) {
                    switch (line.trim()) {
                        case "raw" -> report("raw", alg, threads, run(threads, seconds, raw));
                        case "adapter" -> report("adapter", alg, threads, run(threads, seconds, adapter));
                        default -> System.out.println("unknown " + line.trim());
                    }
                }
            } else {
                report("raw", alg, threads, run(threads, seconds, raw));
                report("adapter", alg, threads, run(threads, seconds, adapter));
            }
        } finally {
            hsm.destroy("default", handle);
        }
    }

    static void report(String what, SigningAlgorithm alg, int threads, double[] result) {
        System.out.printf("%s %s %d %.0f %.0f%n", what, alg, threads, result[0], result[1]);
        System.out.flush();
    }

    /**
     * Signatures per second over {@code seconds}, after a warm-up of 300 per thread, and the signing threads' CPU
     * time per signature in microseconds over the same window.
     */
    static double[] run(int threads, int seconds, Signer signer) throws Exception {
        LongAdder n = new LongAdder();
        AtomicBoolean measuring = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            ts[t] = new Thread(() -> {
                try {
                    for (int i = 0; i < 300; i++) {
                        signer.sign();
                    }
                    while (!stop.get()) {
                        signer.sign();
                        if (measuring.get()) {
                            n.increment();
                        }
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            ts[t].start();
        }
        Thread.sleep(1000L);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long cpu0 = cpu(mx, ts);
        measuring.set(true);
        long start = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        long count = n.sum();
        long cpu1 = cpu(mx, ts);
        double elapsed = (System.nanoTime() - start) / 1e9;
        stop.set(true);
        for (Thread t : ts) {
            t.join();
        }
        return new double[] {count / elapsed, (cpu1 - cpu0) / 1e3 / count};
    }

    static long cpu(ThreadMXBean mx, Thread[] ts) {
        long sum = 0;
        for (Thread t : ts) {
            sum += mx.getThreadCpuTime(t.getId());
        }
        return sum;
    }
}
