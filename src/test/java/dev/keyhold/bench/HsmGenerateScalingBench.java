package dev.keyhold.bench;

import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.SunPkcs11Hsm;
import dev.keyhold.testsupport.TestHsm;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Benchmark, not a test (Surefire's includes skip it): ES256 generation time through the HSM adapter as the token
 * fills up, to tell the sweeper's cost from the adapter's. Run: {@code ./mvnw test -Dtest=HsmGenerateScalingBench}.
 */
class HsmGenerateScalingBench {

    @Test
    void generationTimeAsTheTokenFills() {
        SunPkcs11Hsm hsm = new SunPkcs11Hsm(TestHsm.partitionSettings());
        List<String> made = new ArrayList<>();
        try {
            for (int batch = 0; batch < 10; batch++) {
                long t = System.nanoTime();
                for (int i = 0; i < 100; i++) {
                    String h = "bench-" + batch + "-" + i;
                    hsm.generate("east", h, SigningAlgorithm.ES256);
                    made.add(h);
                }
                System.out.printf(
                        "BENCH ES256 generate with %d keys already in the token: %.1f ms/key%n",
                        batch * 100, (System.nanoTime() - t) / 1e6 / 100);
            }
        } finally {
            made.forEach(h -> hsm.destroy("east", h));
        }
    }
}
