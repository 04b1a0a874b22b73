package dev.keyhold.signing;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that call the HSM for {@code POST /v1/issuers/{id}/sign}: as many as the HSM serves at once
 * ({@code keyhold.signing.executor.threads}, default one per CPU, which is what an in-process SoftHSM2 can use; a
 * network HSM's session count otherwise), and a FIFO queue of {@code keyhold.signing.executor.queue} signatures
 * waiting for one. The request itself stays on its event loop and parks no thread: it hands its signature here and
 * is answered when the ledger has the token. When the queue is full the request is refused at once (503 with
 * {@code Retry-After}) instead of waiting behind more work than the HSM can do in time.
 */
@ApplicationScoped
public class SigningExecutor {

    private final ThreadPoolExecutor pool;
    private final int threads;
    private final int queue;

    @Inject
    public SigningExecutor(SigningConfig config, MeterRegistry registry) {
        int t = config.executor().threads();
        this.threads = t > 0 ? t : Runtime.getRuntime().availableProcessors();
        this.queue = config.executor().queue();
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(
                threads,
                threads,
                0,
                TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(queue, true),
                r -> {
                    Thread th = new Thread(r, "keyhold-sign-" + n.incrementAndGet());
                    th.setDaemon(true);
                    return th;
                },
                new ThreadPoolExecutor.AbortPolicy());
        Gauge.builder("keyhold.signing.executor.queued", pool, p -> p.getQueue().size())
                .description("signatures waiting for an HSM thread")
                .register(registry);
        Gauge.builder("keyhold.signing.executor.active", pool, ThreadPoolExecutor::getActiveCount)
                .description("HSM threads signing now")
                .register(registry);
    }

    /** Runs {@code work} on an HSM thread; false (nothing will run) when the queue is full or closed. */
    boolean offer(Runnable work) {
        try {
            pool.execute(work);
            return true;
        } catch (RejectedExecutionException full) {
            return false;
        }
    }

    public int threads() {
        return threads;
    }

    public int queueCapacity() {
        return queue;
    }

    /** Signatures waiting for a thread now. */
    public int queued() {
        return pool.getQueue().size();
    }

    @PreDestroy
    void close() {
        pool.shutdown();
    }
}
