package dev.keyhold.console;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * A random key for the form login's encrypted session cookie, drawn once per process, as the lowest-priority source
 * of {@code quarkus.http.auth.session.encryption-key}: any configured key wins. Without it Quarkus draws its own and
 * logs it at WARN, and a key in a log is a key anyone with the logs can forge sessions with. Several instances behind
 * one load balancer must be given one key (docs/console.md).
 */
public class ConsoleSessionKey implements ConfigSource {

    static final String PROPERTY = "quarkus.http.auth.session.encryption-key";
    private static final String KEY = draw();

    private static String draw() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    @Override
    public Set<String> getPropertyNames() {
        return Set.of(PROPERTY);
    }

    @Override
    public String getValue(String propertyName) {
        return PROPERTY.equals(propertyName) ? KEY : null;
    }

    @Override
    public String getName() {
        return "keyhold-console-session-key";
    }

    @Override
    public int getOrdinal() {
        return 1;
    }
}
