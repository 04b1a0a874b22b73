package dev.keyhold.testsupport;

import jakarta.annotation.Priority;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/**
 * The application's clock in tests: system time plus an offset that tests advance, or frozen at an instant.
 * Tests move time with it; they never sleep for time to pass.
 */
@Alternative
@Priority(1)
@Singleton
public class MutableClock extends Clock {

    private volatile Duration offset = Duration.ZERO;
    private volatile Instant frozen;

    @Override
    public Instant instant() {
        Instant f = frozen;
        Instant t = f != null ? f : Instant.now().plus(offset);
        return t.truncatedTo(ChronoUnit.MICROS);
    }

    public void advance(Duration d) {
        Instant f = frozen;
        if (f != null) {
            frozen = f.plus(d);
        } else {
            offset = offset.plus(d);
        }
    }

    public void freezeAt(Instant at) {
        frozen = at;
    }

    /** Back to system time, shifted so that time never runs backwards for the application. */
    public void reset() {
        Instant f = frozen;
        frozen = null;
        if (f != null) {
            offset = Duration.between(Instant.now(), f).isNegative()
                    ? Duration.ZERO
                    : Duration.between(Instant.now(), f);
        }
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
