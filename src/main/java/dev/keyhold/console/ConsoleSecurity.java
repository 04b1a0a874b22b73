package dev.keyhold.console;

import io.quarkus.vertx.http.security.HttpSecurity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Locale;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Who may open which console path, and with which login. Only the console's paths are pinned to the console's
 * mechanism, so the API keeps its own (bearer, and Basic in embedded mode) and a console session never authenticates
 * an API call made by a browser: the session cookies are also scoped to {@code /console}.
 */
@ApplicationScoped
public class ConsoleSecurity {

    public static final String FORM = "form";
    public static final String CODE = "code";

    void configure(@Observes HttpSecurity http, ConsoleConfig config) {
        http.path("/console/login", "/console/logged-out", "/console/static/*").permit();
        HttpSecurity.HttpPermission console = http.path("/console", "/console/*");
        if (CODE.equals(login(config))) {
            console.authorizationCodeFlow().authenticated();
        } else {
            console.form().authenticated();
        }
    }

    /** {@code form} or {@code code}: the configured value, else code when an OpenID Connect provider is configured. */
    public static String login(ConsoleConfig config) {
        String chosen =
                config.login().map(s -> s.trim().toLowerCase(Locale.ROOT)).orElse(null);
        if (chosen == null || chosen.isEmpty()) {
            boolean oidc = ConfigProvider.getConfig()
                    .getOptionalValue("quarkus.oidc.auth-server-url", String.class)
                    .filter(s -> !s.isBlank())
                    .isPresent();
            return oidc ? CODE : FORM;
        }
        if (!chosen.equals(FORM) && !chosen.equals(CODE)) {
            throw new IllegalStateException("keyhold.console.login must be 'form' or 'code', not '" + chosen + "'");
        }
        return chosen;
    }
}
