package dev.keyhold.console;

import io.smallrye.config.ConfigMapping;
import java.util.Optional;

/** The console's settings (docs/console.md). */
@ConfigMapping(prefix = "keyhold.console")
public interface ConsoleConfig {

    /**
     * How people log in to the console: {@code form} (a login form over the configured users: the demo users in
     * embedded mode) or {@code code} (OpenID Connect authorization-code flow). Unset: {@code code} when an OpenID
     * Connect provider is configured ({@code quarkus.oidc.auth-server-url}), else {@code form}.
     */
    Optional<String> login();
}
