package dev.keyhold.config;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;

/** The one source of time. Ticks in microseconds, the precision PostgreSQL keeps, so stored instants round-trip. */
@ApplicationScoped
public class ClockProducer {

    @Produces
    @Singleton
    Clock clock() {
        return microseconds();
    }

    /**
     * The system clock truncated to microseconds. Not {@code Clock.tick(systemUTC, 1 µs)} alone: on Java 17 that clock's
     * {@code millis()} divides by the tick in whole milliseconds, which is zero for a sub-millisecond tick, and throws
     * ArithmeticException (it took /q/metrics down). Here {@code millis()} is derived from {@code instant()}.
     */
    static Clock microseconds() {
        return new Microseconds(Clock.tick(Clock.systemUTC(), Duration.ofNanos(1_000)));
    }

    private static final class Microseconds extends Clock {
        private final Clock ticking;

        Microseconds(Clock ticking) {
            this.ticking = ticking;
        }

        @Override
        public ZoneId getZone() {
            return ticking.getZone();
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return new Microseconds(ticking.withZone(zone));
        }

        @Override
        public Instant instant() {
            return ticking.instant();
        }

        @Override
        public long millis() {
            return ticking.instant().toEpochMilli();
        }
    }
}
