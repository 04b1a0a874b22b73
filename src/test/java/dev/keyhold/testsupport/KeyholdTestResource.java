package dev.keyhold.testsupport;

import dev.keyhold.embedded.EmbeddedMode;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/** Starts the real parts every Quarkus test uses: PostgreSQL and SoftHSM2 tokens, once per JVM. */
public class KeyholdTestResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        return TestEnvironment.config();
    }

    @Override
    public void stop() {
        // PostgreSQL stops with the JVM; other Quarkus restarts in this JVM reuse it.
    }

    static Map<String, String> extraPrincipals() {
        return Map.of(
                "dave",
                "custodian",
                "erin",
                "custodian",
                "mallory",
                "custodian",
                "frank",
                "custodian",
                "signer2",
                "signer",
                "ops",
                "admin",
                "flooder",
                "validator");
    }

    static Map<String, String> start(java.nio.file.Path dir) {
        return EmbeddedMode.start(dir, TestEnvironment.PARTITIONS, extraPrincipals());
    }
}
