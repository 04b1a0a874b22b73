package dev.keyhold.security;

import dev.keyhold.config.SettingScan;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.Config;

/**
 * Bearer tokens must be meant for Keyhold: when bearer authentication is configured, an audience must
 * be too, or any token the organisation's identity provider issued for any application would be accepted.
 * Checked by {@code KeyholdMain} before anything starts, and again here for launches that bypass it
 * ({@code quarkus:dev}, an IDE).
 */
@ApplicationScoped
public class BearerSettings {

    /** The setting that must name Keyhold's audience; smallrye-jwt then refuses tokens without it in {@code aud}. */
    public static final String AUDIENCES = "mp.jwt.verify.audiences";

    void onStart(@Observes StartupEvent e, Config config) {
        refusal(config).ifPresent(line -> {
            throw new IllegalStateException(line);
        });
    }

    /** The settings that turn on bearer authentication (verification key or issuer). */
    public static boolean isBearerSetting(String normalized) {
        return (normalized.startsWith("MP_JWT_VERIFY_") || normalized.startsWith("SMALLRYE_JWT_VERIFY_"))
                && !normalized.equals("MP_JWT_VERIFY_AUDIENCES");
    }

    /** One line naming the missing setting, when bearer authentication is configured without an audience. */
    public static Optional<String> refusal(Config config) {
        List<SettingScan.Found> bearer = SettingScan.find(config, BearerSettings::isBearerSetting);
        if (bearer.isEmpty()) {
            return Optional.empty();
        }
        boolean audience = !SettingScan.find(config, n -> n.equals("MP_JWT_VERIFY_AUDIENCES"))
                .isEmpty();
        if (audience) {
            return Optional.empty();
        }
        return Optional.of(AUDIENCES + " (MP_JWT_VERIFY_AUDIENCES) is not set, but bearer authentication is ("
                + bearer.stream().map(SettingScan.Found::toString).collect(Collectors.joining(", "))
                + "): set it to the audience your identity provider puts in tokens meant for Keyhold,"
                + " so tokens issued for other applications are refused");
    }
}
