package dev.keyhold.signing;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import io.netty.util.concurrent.EventExecutor;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Puts the HTTP event loops under Linux's {@code SCHED_BATCH} policy ({@code keyhold.signing.batch-event-loops},
 * on by default).
 *
 * <p>With a software token the signatures are CPU work on the signing threads. Under the normal policy each time
 * an event loop wakes (a request arrived, a signature finished) the kernel preempts a signing thread at once, so
 * every token costs several context switches, and a signature that is switched away from and back to runs
 * slower. A {@code SCHED_BATCH} thread does not preempt on wake-up: it runs when a core is free or at the next
 * scheduler tick, and then answers every signature finished in the meantime in one go. It keeps its full share
 * of the CPU (same nice value); only the wake-up preemption goes. On idle cores nothing changes, since a waking
 * thread takes a free core straight away. Measured in {@code docs/benchmarks.md} ("Signing throughput").
 *
 * <p>Linux hands a thread's policy down to the threads it starts, and pools start their threads lazily, from
 * whichever thread first hands them work: Quarkus's worker threads started by an event loop run under
 * {@code SCHED_BATCH} too (they take the same requests), but the signing threads are given the normal policy
 * back before their first signature ({@link #signingThread()}), so that the loops never preempt them and they
 * are never slower to wake than before.
 *
 * <p>Changing between the normal and the batch policy needs no privilege. Where it cannot be done (not Linux, no
 * C library through JNA, a sandbox that refuses the call) one WARN line says so and the loops keep the normal
 * policy; nothing else depends on it.
 */
@ApplicationScoped
public class EventLoopScheduling {

    private static final Logger LOG = Logger.getLogger(EventLoopScheduling.class);

    /** {@code SCHED_BATCH} from {@code <sched.h>} (Linux). */
    static final int SCHED_BATCH = 3;
    /** {@code SCHED_OTHER}, the normal policy. */
    static final int SCHED_OTHER = 0;

    private interface LibC extends Library {
        /** {@code pid} 0 is the calling thread; {@code param} points at {@code struct sched_param {int prio;}}. */
        int sched_setscheduler(int pid, int policy, int[] param) throws LastErrorException;
    }

    /** The signing threads that already have the normal policy back. */
    private static final ThreadLocal<Boolean> NORMAL_AGAIN = new ThreadLocal<>();

    @Inject
    Vertx vertx;

    @Inject
    SigningConfig config;

    /** Set once the event loops run under SCHED_BATCH: the signing threads then take the normal policy back. */
    private volatile LibC batched;

    void onStart(@Observes StartupEvent start) {
        if (!config.batchEventLoops()) {
            return;
        }
        String outcome = apply(vertx.nettyEventLoopGroup(), SCHED_BATCH);
        if (outcome == null) {
            batched = Native.load("c", LibC.class);
            LOG.debugf("HTTP event loops run under SCHED_BATCH");
        } else {
            // Some loops may have taken it before one refused: put them all back, so the line below stays true.
            apply(vertx.nettyEventLoopGroup(), SCHED_OTHER);
            LOG.warnf("HTTP event loops keep the normal scheduling policy (%s); signing throughput may be lower "
                    + "under full load (keyhold.signing.batch-event-loops)", outcome);
        }
    }

    /**
     * Called on a signing thread before each signature: the first time on a thread, and only when the event loops
     * run under SCHED_BATCH, gives the thread the normal policy (it inherited the batch one if an event loop started
     * it). Afterwards a thread-local read.
     */
    void signingThread() {
        LibC libc = batched;
        if (libc != null && NORMAL_AGAIN.get() == null) {
            NORMAL_AGAIN.set(Boolean.TRUE);
            String failure = setOwnPolicy(libc, SCHED_OTHER);
            if (failure != null) {
                LOG.warnf("signing thread %s keeps the batch scheduling policy (%s)", Thread.currentThread().getName(),
                        failure);
            }
        }
    }

    /**
     * Sets {@code policy} on every thread of {@code loops}, from the thread itself. Returns null when all of them
     * took it, otherwise why not (the first failure).
     */
    static String apply(Iterable<EventExecutor> loops, int policy) {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) {
            return "scheduling policies are Linux-only";
        }
        LibC libc;
        try {
            libc = Native.load("c", LibC.class);
        } catch (LinkageError e) {
            return "the C library could not be loaded: " + e.getMessage();
        }
        List<CompletableFuture<String>> done = new ArrayList<>();
        for (EventExecutor loop : loops) {
            CompletableFuture<String> one = new CompletableFuture<>();
            done.add(one);
            loop.execute(() -> one.complete(setOwnPolicy(libc, policy)));
        }
        for (CompletableFuture<String> one : done) {
            try {
                String failure = one.get(10, TimeUnit.SECONDS);
                if (failure != null) {
                    return failure;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            } catch (ExecutionException | TimeoutException e) {
                return "an event loop did not run the change: " + e;
            }
        }
        return null;
    }

    private static String setOwnPolicy(LibC libc, int policy) {
        try {
            libc.sched_setscheduler(0, policy, new int[] {0});
            return null;
        } catch (LastErrorException e) {
            return "sched_setscheduler failed, errno " + e.getErrorCode();
        } catch (RuntimeException | LinkageError e) {
            return "sched_setscheduler failed: " + e;
        }
    }
}
