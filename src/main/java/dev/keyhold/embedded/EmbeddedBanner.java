package dev.keyhold.embedded;

import dev.keyhold.config.KeyholdConfig;
import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.nio.file.Path;

/** Tells a newcomer where embedded Keyhold listens, where its data is, and how to log in. */
@ApplicationScoped
public class EmbeddedBanner {

    private static final Logger LOG = Logger.getLogger(EmbeddedBanner.class);

    void onStart(@Observes StartupEvent e, KeyholdConfig config,
                 @ConfigProperty(name = "quarkus.http.port") int port) {
        if (!config.embedded().active() || LaunchMode.current() == LaunchMode.TEST) {
            return;
        }
        LOG.infof("Keyhold (embedded mode) listening on http://localhost:%d  |  data: %s  |  demo users: %s"
                        + " (password '%s', development only)  |  try: curl http://localhost:%d/q/health",
                port, Path.of(config.dataDir()).toAbsolutePath().normalize(),
                String.join(", ", EmbeddedMode.DEMO_PRINCIPALS.keySet()), EmbeddedMode.DEMO_PASSWORD, port);
    }
}
