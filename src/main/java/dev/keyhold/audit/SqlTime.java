package dev.keyhold.audit;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;

/** A {@code timestamptz} as native queries return it (the JDBC driver and Hibernate differ on the type), as an Instant. */
public final class SqlTime {

    private SqlTime() {}

    public static Instant instant(Object o) {
        if (o instanceof Timestamp t) {
            return t.toInstant();
        }
        if (o instanceof OffsetDateTime odt) {
            return odt.toInstant();
        }
        if (o instanceof Instant i) {
            return i;
        }
        throw new IllegalStateException("unexpected time type " + (o == null ? "null" : o.getClass()));
    }
}
