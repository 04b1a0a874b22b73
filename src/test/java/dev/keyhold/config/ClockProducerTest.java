package dev.keyhold.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class ClockProducerTest {

    @Test
    void millisWorksAndAgreesWithInstant() {
        Clock clock = ClockProducer.microseconds();
        long before = System.currentTimeMillis();
        long millis = clock.millis(); // Clock.tick(systemUTC, 1 µs).millis() throws ArithmeticException on Java 17
        long after = System.currentTimeMillis();
        assertThat(millis).isBetween(before, after);
        assertThat(clock.withZone(ZoneOffset.ofHours(2)).millis()).isGreaterThanOrEqualTo(millis);
    }

    @Test
    void instantsAreWholeMicroseconds() {
        Instant t = ClockProducer.microseconds().instant();
        assertThat(t.getNano() % 1_000).isZero();
        assertThat(ClockProducer.microseconds().getZone())
                .isEqualTo(Clock.systemUTC().getZone());
    }
}
