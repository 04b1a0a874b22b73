package dev.keyhold.config;

import org.eclipse.microprofile.config.spi.ConfigSource;
import org.junit.jupiter.api.Test;

import java.util.ServiceLoader;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

class RuntimeDefaultsTest {

    @Test
    void halfTheCpusForEventLoopsAndNeverNone() {
        assertThat(RuntimeDefaults.eventLoops(1)).isEqualTo(1);
        assertThat(RuntimeDefaults.eventLoops(2)).isEqualTo(1);
        assertThat(RuntimeDefaults.eventLoops(3)).isEqualTo(1);
        assertThat(RuntimeDefaults.eventLoops(8)).isEqualTo(4);
        assertThat(new RuntimeDefaults(16).getValue(RuntimeDefaults.EVENT_LOOPS)).isEqualTo("8");
    }

    @Test
    void explicitSettingsWin() {
        // application.properties is 250, environment variables 300, system properties 400.
        assertThat(new RuntimeDefaults().getOrdinal()).isLessThan(250);
        assertThat(new RuntimeDefaults().getValue("quarkus.http.port")).isNull();
    }

    @Test
    void registeredAsAConfigSource() {
        ServiceLoader<ConfigSource> sources = ServiceLoader.load(ConfigSource.class);
        assertThat(StreamSupport.stream(sources.spliterator(), false).map(Object::getClass))
                .contains(RuntimeDefaults.class);
    }
}
