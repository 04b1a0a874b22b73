package dev.keyhold;

import dev.keyhold.embedded.EmbeddedMode;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

import java.util.Map;

/**
 * Entry point. In embedded mode the database and the HSM token must exist before Quarkus reads its
 * configuration, so they are started here and handed over as system properties.
 */
@QuarkusMain
public class KeyholdMain {

    public static void main(String... args) {
        // `java -jar quarkus-run.jar verify-audit export.json`: the offline verifier, before anything starts.
        if (args.length > 0 && args[0].equals("verify-audit")) {
            System.exit(dev.keyhold.tools.VerifyAudit.run(java.util.Arrays.copyOfRange(args, 1, args.length),
                    System.out));
        }
        if (EmbeddedMode.wanted()) {
            try {
                Map<String, String> config = EmbeddedMode.start(EmbeddedMode.dataDir(), EmbeddedMode.partitions(), Map.of());
                config.forEach((k, v) -> {
                    if (System.getProperty(k) == null) {
                        System.setProperty(k, v);
                    }
                });
            } catch (RuntimeException e) {
                System.err.println("Keyhold cannot start in embedded mode: " + e.getMessage());
                System.exit(1);
            }
        }
        Quarkus.run(args);
    }
}
