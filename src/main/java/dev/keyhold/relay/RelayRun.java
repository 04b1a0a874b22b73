package dev.keyhold.relay;

import dev.keyhold.audit.OutboxStore;
import dev.keyhold.events.OutboxEvent;
import dev.keyhold.events.OutboxReader;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.jboss.logging.Logger;

/**
 * One relaying loop: outbox → Kafka, at least once, in order per issuer.
 *
 * <p>Each step is one database transaction on one connection: take the relay lock
 * ({@code pg_try_advisory_xact_lock}), read the stored position, read the next events in sequence order, send
 * them in one Kafka transaction, wait until the broker has acknowledged every one and the Kafka transaction has
 * committed, then advance the position and commit. A crash or failure anywhere before the database commit leaves
 * the position where it was, so the batch is sent again (duplicates, never gaps). The lock lives exactly as long
 * as the database transaction, so it goes away with a dead instance's connection and another instance takes over
 * on its next poll; an instance that does not get it only measures the lag. Batches from different instances
 * cannot overlap: the next holder reads the position the previous one committed, after all of that batch's
 * acknowledgements.
 *
 * <p>Why a Kafka transaction and not only the idempotent producer: when one record of a batch fails (a delivery
 * timeout during a broker restart), the idempotent producer bumps its epoch and still writes the later records of
 * the same partition. The retry then sends the failed record after its successors, and a consumer that keeps the
 * first copy of each id would see an issuer's events out of order (the Kafka tests reproduced exactly this). In a
 * transaction the failed batch is aborted as a whole, so a read_committed consumer sees each batch complete or
 * not at all: every attempt it sees is a gap-free run starting at a stored position, and keeping the first copy
 * of each id yields commit order.
 */
public final class RelayRun {

    /** Advisory lock key of the relay ("KHRELAY" in ASCII), distinct from the audit chain's. */
    public static final long RELAY_LOCK = 0x4b4852454c4159L;

    static final String CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8";
    /** Key of events that belong to no issuer. */
    static final String NO_ISSUER_KEY = "keyhold";

    private static final long LAG_COUNT_CAP = 1_000_000;
    private static final long LAG_REFRESH_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final Logger LOG = Logger.getLogger(RelayRun.class);

    enum Step {
        SENT_FULL_BATCH,
        SENT,
        IDLE,
        NOT_HOLDER
    }

    private final String name;
    private final DataSource ds;
    private final BusConfig.Kafka config;
    private final Clock clock;
    private final Function<Map<String, Object>, Producer<String, byte[]>> producers;
    private final Map<String, Object> producerSettings;
    private final RelayStatus status = new RelayStatus();
    private final Counter relayed;
    private final Counter failures;
    private final Semaphore wake = new Semaphore(0);

    private volatile boolean running;
    private volatile Thread thread;
    private Producer<String, byte[]> producer;
    private boolean positionRowExists;
    private long lagMeasuredAt = System.nanoTime() - 2 * LAG_REFRESH_NANOS;

    public RelayRun(String clientId, DataSource ds, BusConfig.Kafka config, Clock clock, MeterRegistry meters) {
        this(clientId, ds, config, clock, meters, KafkaProducer::new);
    }

    RelayRun(
            String clientId,
            DataSource ds,
            BusConfig.Kafka config,
            Clock clock,
            MeterRegistry meters,
            Function<Map<String, Object>, Producer<String, byte[]>> producers) {
        this.name = positionName(config.topic());
        this.ds = ds;
        this.config = config;
        this.clock = clock;
        this.producers = producers;
        this.producerSettings = ProducerSettings.of(config, clientId);
        this.relayed = Counter.builder("keyhold.relay.events.relayed")
                .description("Outbox events acknowledged by Kafka")
                .tag("topic", config.topic())
                .register(meters);
        this.failures = Counter.builder("keyhold.relay.failures")
                .description("Relay attempts that failed (broker or database) and will be retried")
                .tag("topic", config.topic())
                .register(meters);
    }

    /** The position row's name: one per topic, so a new topic receives the whole outbox. */
    public String positionName() {
        return name;
    }

    /** The position row's name for a topic. */
    static String positionName(String topic) {
        return "kafka:" + topic;
    }

    public RelayStatus status() {
        return status;
    }

    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        Thread t = new Thread(this::loop, "keyhold-relay");
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    /** Stops relaying; a batch in flight is abandoned uncommitted and will be sent again by the next holder. */
    public synchronized void stop() {
        running = false;
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            try {
                t.join(TimeUnit.SECONDS.toMillis(15));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        thread = null;
    }

    /** Look at the outbox now (called after this instance commits a change). */
    public void wake() {
        if (wake.availablePermits() == 0) {
            wake.release();
        }
    }

    private void loop() {
        Backoff backoff =
                new Backoff(config.backoff().initial(), config.backoff().max());
        try {
            while (running) {
                Step step;
                try {
                    producer();
                    status.attemptStarted(clock.instant());
                    step = step();
                    backoff.reset();
                } catch (Exception e) {
                    status.attemptEnded();
                    if (!running) {
                        break;
                    }
                    failed(e);
                    measureLagQuietly();
                    pause(backoff.next());
                    continue;
                }
                status.attemptEnded();
                if (step != Step.SENT_FULL_BATCH) {
                    pause(config.pollInterval());
                }
            }
        } finally {
            closeProducer();
        }
    }

    /** One transaction: lock, read position, send the next batch, wait for acks, advance. */
    Step step() throws SQLException, InterruptedException, ExecutionException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                Step s = step(c);
                c.commit();
                return s;
            } catch (SQLException | InterruptedException | ExecutionException | RuntimeException e) {
                rollbackQuietly(c);
                positionRowExists = false; // its insert may have been rolled back with the rest
                // A new producer for the retry: whatever the failed one still holds is resent from the stored position.
                closeProducer();
                throw e;
            }
        }
    }

    private Step step(Connection c) throws SQLException, InterruptedException, ExecutionException {
        if (!tryLock(c)) {
            measureLag(c, storedPosition(c));
            status.success(false, clock.instant());
            return Step.NOT_HOLDER;
        }
        long position = lockedPosition(c);
        List<OutboxEvent> batch = OutboxStore.eventsAfter(c, position, config.batchSize()).stream()
                .map(OutboxReader::event)
                .toList();
        if (batch.isEmpty()) {
            measureLag(c, position);
            status.success(true, clock.instant());
            return Step.IDLE;
        }
        send(batch);
        long last = batch.get(batch.size() - 1).seq();
        OutboxStore.advance(c, name, last, clock.instant());
        // While busy, measuring the lag after every batch would cost more than the batch; once a second is enough.
        if (System.nanoTime() - lagMeasuredAt > LAG_REFRESH_NANOS) {
            measureLag(c, last);
        }
        c.commit();
        relayed.increment(batch.size());
        status.success(true, clock.instant());
        return batch.size() == config.batchSize() ? Step.SENT_FULL_BATCH : Step.SENT;
    }

    private void send(List<OutboxEvent> batch) throws InterruptedException, ExecutionException {
        producer().beginTransaction();
        List<Future<RecordMetadata>> acks = new ArrayList<>(batch.size());
        for (OutboxEvent e : batch) {
            ProducerRecord<String, byte[]> r = new ProducerRecord<>(
                    config.topic(),
                    null,
                    e.issuerId() == null ? NO_ISSUER_KEY : e.issuerId(),
                    e.toCloudEventJson().getBytes(StandardCharsets.UTF_8));
            r.headers().add("content-type", CONTENT_TYPE.getBytes(StandardCharsets.UTF_8));
            acks.add(producer.send(r));
        }
        producer.flush();
        for (Future<RecordMetadata> f : acks) {
            f.get(); // every record acknowledged (acks=all), or the whole batch is retried
        }
        producer.commitTransaction();
    }

    /**
     * The transactional producer, created and initialised if there is none. The loop calls this before each step,
     * outside the database transaction, so a (re)start pays for InitProducerId (coordinator lookup, fencing the
     * previous producer; on a new cluster the creation of {@code __transaction_state}) before events are waiting
     * for it and without holding the relay lock and a database connection meanwhile.
     */
    private Producer<String, byte[]> producer() {
        Producer<String, byte[]> p = producer;
        if (p == null) {
            long t = System.nanoTime();
            p = producers.apply(producerSettings);
            producer = p;
            try {
                // fences (and aborts the open transaction of) an earlier producer of this instance
                p.initTransactions();
            } catch (RuntimeException e) {
                closeProducer();
                throw e;
            }
            LOG.debugf("Kafka relay %s: producer initialised in %d ms", name, (System.nanoTime() - t) / 1_000_000);
        }
        return p;
    }

    private static boolean tryLock(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select pg_try_advisory_xact_lock(?) as locked")) {
            ps.setLong(1, RELAY_LOCK);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean("locked");
            }
        }
    }

    private long lockedPosition(Connection c) throws SQLException {
        if (!positionRowExists) {
            OutboxStore.createPosition(c, name, clock.instant());
            positionRowExists = true;
        }
        OptionalLong position = OutboxStore.lockPosition(c, name);
        if (position.isEmpty()) {
            positionRowExists = false;
            throw new SQLException("relay position " + name + " vanished; it will be recreated");
        }
        return position.getAsLong();
    }

    private long storedPosition(Connection c) throws SQLException {
        return OutboxStore.position(c, name);
    }

    private void measureLag(Connection c, long position) throws SQLException {
        OutboxStore.Pending pending = OutboxStore.pending(c, position, LAG_COUNT_CAP);
        status.lag(position, pending.events(), pending.oldest());
        lagMeasuredAt = System.nanoTime();
    }

    /** Keeps the reported lag current while the broker is away (the database may still answer). */
    private void measureLagQuietly() {
        try (Connection c = ds.getConnection()) {
            measureLag(c, storedPosition(c));
        } catch (SQLException | RuntimeException e) {
            LOG.debugf("relay lag not measurable: %s", e.getMessage());
        }
    }

    private void failed(Exception e) {
        failures.increment();
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        String msg = cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
        if (msg.length() > 300) {
            msg = msg.substring(0, 300);
        }
        boolean first = !status.failing();
        status.failure(msg, clock.instant());
        if (first) {
            LOG.warnf("Kafka relay %s failed, retrying with backoff: %s", name, msg);
        } else {
            LOG.debugf("Kafka relay %s failed again: %s", name, msg);
        }
    }

    private void closeProducer() {
        Producer<String, byte[]> p = producer;
        producer = null;
        if (p != null) {
            try {
                p.close(Duration.ZERO);
            } catch (RuntimeException e) {
                LOG.debugf("closing the relay producer: %s", e.getMessage());
            }
        }
    }

    private void pause(Duration d) {
        try {
            if (wake.tryAcquire(d.toMillis(), TimeUnit.MILLISECONDS)) {
                wake.drainPermits();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            LOG.debugf("relay rollback failed: %s", e.getMessage());
        }
    }
}
