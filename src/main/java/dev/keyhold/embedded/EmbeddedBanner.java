package dev.keyhold.embedded;

import dev.keyhold.config.KeyholdConfig;
import dev.keyhold.config.SettingScan;
import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.file.Path;
import java.util.List;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Tells a newcomer where embedded Keyhold listens, where its data is, and how to log in; and checks once more,
 * with the configuration Quarkus really read, that embedded mode is not running beside a production setting.
 */
@ApplicationScoped
public class EmbeddedBanner {

    private static final Logger LOG = Logger.getLogger(EmbeddedBanner.class);

    void onStart(
            @Observes StartupEvent e,
            KeyholdConfig config,
            Config all,
            @ConfigProperty(name = "quarkus.http.host") String host,
            @ConfigProperty(name = "quarkus.http.port") int port) {
        if (!config.embedded().active() || LaunchMode.current() == LaunchMode.TEST) {
            return;
        }
        // KeyholdMain hands embedded mode's own database and tokens over as system properties; any other source
        // naming a production setting means StartupDecision was bypassed or saw less than Quarkus did.
        List<SettingScan.Found> production = SettingScan.find(all, StartupDecision::isProductionSetting).stream()
                .filter(f -> !f.source().equals("system properties"))
                .toList();
        if (!production.isEmpty()) {
            throw new IllegalStateException(
                    "embedded mode refused: a production setting is present: " + production.get(0));
        }
        LOG.infof(
                "Keyhold (embedded mode) listening on http://%s:%d  |  data: %s  |  demo users: %s"
                        + " (password '%s', development only)  |  try: curl http://%s:%d/q/health",
                host,
                port,
                Path.of(config.dataDir()).toAbsolutePath().normalize(),
                String.join(", ", EmbeddedMode.DEMO_PRINCIPALS.keySet()),
                EmbeddedMode.DEMO_PASSWORD,
                host,
                port);
    }
}
