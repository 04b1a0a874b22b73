package dev.keyhold;

import dev.keyhold.embedded.EmbeddedMode;
import dev.keyhold.embedded.StartupDecision;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;
import io.smallrye.config.SmallRyeConfig;
import java.nio.file.Path;
import java.util.Map;

/**
 * Entry point. Decides embedded or production mode from the configuration Quarkus is about to read, refuses
 * configurations that would start half-configured (one line, exit status 1), and in embedded mode starts the
 * database and the HSM tokens before Quarkus reads its configuration, handing them over as system properties.
 */
@QuarkusMain
public class KeyholdMain {

    public static void main(String... args) {
        // `java -jar quarkus-run.jar verify-audit export.json`: the offline verifier, before anything starts.
        if (args.length > 0 && args[0].equals("verify-audit")) {
            System.exit(
                    dev.keyhold.tools.VerifyAudit.run(java.util.Arrays.copyOfRange(args, 1, args.length), System.out));
        }
        SmallRyeConfig config = StartupDecision.quarkusSources();
        StartupDecision.Outcome outcome = StartupDecision.decide(config, Path.of(System.getProperty("user.dir", ".")));
        if (outcome.refusal().isPresent()) {
            System.err.println("Keyhold will not start: " + outcome.refusal().get());
            System.exit(1);
        }
        if (outcome.embedded()) {
            try {
                Map<String, String> embedded =
                        EmbeddedMode.start(EmbeddedMode.dataDir(config), EmbeddedMode.partitions(config), Map.of());
                embedded.forEach((k, v) -> {
                    if (System.getProperty(k) == null) {
                        System.setProperty(k, v);
                    }
                });
                EmbeddedMode.defaultHost(config).ifPresent(h -> System.setProperty("quarkus.http.host", h));
            } catch (RuntimeException e) {
                System.err.println("Keyhold cannot start in embedded mode: " + e.getMessage());
                System.exit(1);
            }
        }
        Quarkus.run(args);
    }
}
