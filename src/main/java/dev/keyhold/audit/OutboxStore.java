package dev.keyhold.audit;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.Tuple;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The outbox and relay aggregate's store: the only class that holds SQL for {@code outbox_event} and
 * {@code relay_position}. Rows are read by column name into records, never by position.
 *
 * <p>It lives in {@code audit}, the lowest of the three packages that use it: {@link ChangeRecorder} appends events
 * here, {@code events} reads them (it depends on {@code audit}) and {@code relay} reads them and keeps its position
 * (it depends on both); in {@code events} it would be out of the recorder's reach, since {@code events} already
 * depends on {@code audit}.
 *
 * <p>Methods that use the {@link EntityManager} join the caller's transaction. Methods that take a
 * {@link Connection} run on the relay's connection, inside the transaction that holds the relay lock.
 */
@ApplicationScoped
public class OutboxStore {

    private static final String EVENT_COLUMNS = "seq, type, source, issuer_id, subject, event_time, data";

    @Inject
    EntityManager em;

    @Inject
    AgroalDataSource ds;

    /** One {@code outbox_event} row. */
    public record EventRow(
            long seq, String type, String source, String issuerId, String subject, Instant time, String dataJson) {}

    /** Events after a position: how many (capped) and the oldest one's time (null when there is none). */
    public record Pending(long events, Instant oldest) {}

    /** A relay position and the events after it. */
    public record Lag(long position, long events, Instant oldest) {}

    // --- appending (ChangeRecorder, under the chain lock, in the transaction of the change) ---

    /** The next event sequence number. */
    public long nextSeq() {
        Tuple t = (Tuple) em.createNativeQuery("select nextval('outbox_event_seq') as seq", Tuple.class)
                .getSingleResult();
        return ((Number) t.get("seq")).longValue();
    }

    /** Appends one event, exactly as given. */
    public void append(EventRow e) {
        em.createNativeQuery("insert into outbox_event (" + EVENT_COLUMNS + ") values (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                .setParameter(1, e.seq())
                .setParameter(2, e.type())
                .setParameter(3, e.source())
                .setParameter(4, e.issuerId())
                .setParameter(5, e.subject())
                .setParameter(6, Timestamp.from(e.time()))
                .setParameter(7, e.dataJson())
                .executeUpdate();
    }

    // --- the feed (events) ---

    /** At most {@code limit} events after {@code seq}, in sequence order. */
    public List<EventRow> after(long seq, int limit) {
        List<EventRow> events = new ArrayList<>();
        for (Object row : em.createNativeQuery(
                        "select " + EVENT_COLUMNS + " from outbox_event where seq > ?1 order by seq limit ?2",
                        Tuple.class)
                .setParameter(1, seq)
                .setParameter(2, limit)
                .getResultList()) {
            events.add(row((Tuple) row));
        }
        return events;
    }

    /** The newest event's sequence number, 0 when the outbox is empty. */
    public long head() {
        Tuple t = (Tuple) em.createNativeQuery("select coalesce(max(seq), 0) as head from outbox_event", Tuple.class)
                .getSingleResult();
        return ((Number) t.get("head")).longValue();
    }

    // --- the relay: its connection, inside its transaction ---

    /** Creates the position row {@code name} at 0 unless it exists. */
    public static void createPosition(Connection c, String name, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("insert into relay_position (name, last_seq, updated_at)"
                + " values (?, 0, ?) on conflict (name) do nothing")) {
            ps.setString(1, name);
            ps.setTimestamp(2, Timestamp.from(now));
            ps.executeUpdate();
        }
    }

    /** The position {@code name}, its row locked until the transaction ends; empty when the row does not exist. */
    public static OptionalLong lockPosition(Connection c, String name) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("select last_seq from relay_position where name = ? for update")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? OptionalLong.of(rs.getLong("last_seq")) : OptionalLong.empty();
            }
        }
    }

    /** The position {@code name}, 0 when the row does not exist. */
    public static long position(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select last_seq from relay_position where name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong("last_seq") : 0;
            }
        }
    }

    /** Moves the position {@code name} to {@code lastSeq}. */
    public static void advance(Connection c, String name, long lastSeq, Instant now) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("update relay_position set last_seq = ?, updated_at = ? where name = ?")) {
            ps.setLong(1, lastSeq);
            ps.setTimestamp(2, Timestamp.from(now));
            ps.setString(3, name);
            ps.executeUpdate();
        }
    }

    /** At most {@code limit} events after {@code after}, in sequence order. */
    public static List<EventRow> eventsAfter(Connection c, long after, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "select " + EVENT_COLUMNS + " from outbox_event where seq > ? order by seq limit ?")) {
            ps.setLong(1, after);
            ps.setInt(2, limit);
            List<EventRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new EventRow(
                            rs.getLong("seq"),
                            rs.getString("type"),
                            rs.getString("source"),
                            rs.getString("issuer_id"),
                            rs.getString("subject"),
                            rs.getTimestamp("event_time").toInstant(),
                            rs.getString("data")));
                }
            }
            return out;
        }
    }

    /** The events after {@code position} (counted up to {@code cap}) and the oldest one's time. */
    public static Pending pending(Connection c, long position, long cap) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select count(*) as events, min(event_time) as oldest from"
                + " (select event_time from outbox_event where seq > ? order by seq limit ?) pending")) {
            ps.setLong(1, position);
            ps.setLong(2, cap);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Timestamp oldest = rs.getTimestamp("oldest");
                return new Pending(rs.getLong("events"), oldest == null ? null : oldest.toInstant());
            }
        }
    }

    // --- the relay's lag, for metrics and health: its own connection ---

    /**
     * The committed position {@code name} (0 when there is none), the events after it (counted up to {@code cap})
     * and the oldest one's time: two index range reads in one statement, given {@code timeoutSeconds}.
     */
    public Lag lag(String name, long cap, int timeoutSeconds) throws SQLException {
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "select p.last_seq, count(e.event_time) as events, min(e.event_time) as oldest"
                                + " from (select coalesce((select last_seq from relay_position where name = ?), 0)"
                                + " as last_seq) p"
                                + " left join lateral (select event_time from outbox_event o where o.seq > p.last_seq"
                                + " order by o.seq limit ?) e on true group by p.last_seq")) {
            ps.setQueryTimeout(timeoutSeconds);
            ps.setString(1, name);
            ps.setLong(2, cap);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Timestamp oldest = rs.getTimestamp("oldest");
                return new Lag(
                        rs.getLong("last_seq"), rs.getLong("events"), oldest == null ? null : oldest.toInstant());
            }
        }
    }

    private static EventRow row(Tuple t) {
        return new EventRow(
                ((Number) t.get("seq")).longValue(),
                t.get("type", String.class),
                t.get("source", String.class),
                t.get("issuer_id", String.class),
                t.get("subject", String.class),
                SqlTime.instant(t.get("event_time")),
                t.get("data", String.class));
    }
}
