package dev.keyhold.hsm;

import static sun.security.pkcs11.wrapper.PKCS11Constants.CKF_OS_LOCKING_OK;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jboss.logging.Logger;
import sun.security.pkcs11.wrapper.CK_C_INITIALIZE_ARGS;
import sun.security.pkcs11.wrapper.PKCS11;
import sun.security.pkcs11.wrapper.PKCS11Exception;

/**
 * One PKCS#11 library as loaded in this process, shared by every partition that names it, and its
 * re-initialisation (C_Finalize, then C_Initialize) when its sessions fail.
 *
 * <p><b>Why re-initialise.</b> Some libraries never recover from an outage in-process: SoftHSM2 marks a token
 * whose directory vanished as invalid (C_GetTokenInfo answers CKR_GENERAL_ERROR, object searches find nothing) and
 * keeps it so after the directory is back; network HSM clients often need the same after a lost connection. Only a
 * fresh C_Initialize reads the token again.
 *
 * <p><b>How, with the JDK's wrapper.</b> {@code PKCS11.C_Initialize} is not public, and
 * {@code PKCS11.getInstance} initialises a library once per <em>path string</em> (it caches by the
 * non-canonical path). So after C_Finalize the library is initialised again by asking for it under another path
 * string that names the same file ({@code /dir/./lib.so}, {@code /dir/.//lib.so}, …): the dynamic linker hands
 * back the library already loaded, and the wrapper calls C_Initialize on it. Initialisation state belongs to the
 * library, not to the Java object, so every wrapper instance of that library works again afterwards.
 *
 * <p><b>Safety.</b> C_Finalize under a running C_Sign is undefined behaviour in C (it can crash the JVM), so every
 * call into the library holds {@link #lock}'s read lock and re-initialisation takes the write lock. Sessions and
 * object handles from before a re-initialisation are void; {@link #generation()} tells connections they are stale,
 * and they must not close those sessions (the numbers may already belong to new sessions). A SunPKCS11 provider
 * configured on the same library in this process would lose its sessions too; Keyhold registers none.
 *
 * <p>Attempts are spaced by a doubling backoff read from the application clock, and reset once every partition
 * that was down connects again. After {@code livenessFailures} re-initialisations in a row that failed in the
 * library itself (C_Initialize refused, the library could not be reloaded), the module reports that only a restart
 * can help ({@link #broken()}), which the liveness check turns into DOWN.
 */
final class Pkcs11Module {

    private static final Logger LOG = Logger.getLogger(Pkcs11Module.class);

    /** Process-wide: the library's initialisation state is process-wide too. */
    private static final ConcurrentMap<String, Pkcs11Module> MODULES = new ConcurrentHashMap<>();

    /** How long a re-initialisation waits for calls in flight before it gives up for this round. */
    private static final long DRAIN_TIMEOUT_SECONDS = 10;

    /** Path spellings tried per re-initialisation; one is enough unless another copy of this class used some. */
    private static final int MAX_ALIASES_PER_ATTEMPT = 64;

    private final String library;
    final ReentrantReadWriteLock lock;
    /** Bumped by every re-initialisation, by whichever copy of this class did it. */
    private final AtomicLong generation;

    private final AtomicInteger aliases;
    private volatile PKCS11 p11;

    // Recovery state of this copy, guarded by this.
    private Instant nextAttemptAt = Instant.MIN;
    private Duration delay;
    private int failuresInARow;
    private String lastFailure;
    private Instant lastAttemptAt;
    private long reinitialisations;
    private final java.util.Set<Object> down = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    private Pkcs11Module(String library) {
        this.library = library;
        Object[] shared = processWide(library);
        this.lock = (ReentrantReadWriteLock) shared[0];
        this.generation = (AtomicLong) shared[1];
        this.aliases = (AtomicInteger) shared[2];
    }

    private static final ConcurrentMap<String, Object[]> SHARED = new ConcurrentHashMap<>();

    /**
     * The lock, generation and path-spelling counter of a library, as JDK objects so that every copy of this class
     * in the process uses the same ones. There is one copy in production; tests also load one in Quarkus's class
     * loader beside the one the plain tests use, and the library (with its sessions and handles) is one for both.
     */
    public static Object[] processWide(String library) {
        ClassLoader system = ClassLoader.getSystemClassLoader();
        if (Pkcs11Module.class.getClassLoader() != system) {
            try {
                Class<?> root = Class.forName(Pkcs11Module.class.getName(), true, system);
                if (root != Pkcs11Module.class) {
                    return (Object[])
                            root.getMethod("processWide", String.class).invoke(null, library);
                }
            } catch (ReflectiveOperationException | LinkageError notOnTheSystemClassPath) {
                // Production: the application's classes are only in Quarkus's class loader.
            }
        }
        return SHARED.computeIfAbsent(
                library, k -> new Object[] {new ReentrantReadWriteLock(), new AtomicLong(), new AtomicInteger(1)});
    }

    static Pkcs11Module of(String library) {
        return MODULES.computeIfAbsent(library, Pkcs11Module::new);
    }

    String library() {
        return library;
    }

    /** Bumped by every re-initialisation: sessions and object handles of an older generation are void. */
    long generation() {
        return generation.get();
    }

    /** The loaded library; loads and initialises it on first use. Call with the read lock held. */
    PKCS11 p11() throws Exception {
        PKCS11 p = p11;
        if (p == null) {
            synchronized (this) {
                if (p11 == null) {
                    p11 = PKCS11.getInstance(library, "C_GetFunctionList", initArgs(), false);
                }
                p = p11;
            }
        }
        return p;
    }

    private static CK_C_INITIALIZE_ARGS initArgs() {
        CK_C_INITIALIZE_ARGS args = new CK_C_INITIALIZE_ARGS();
        args.flags = CKF_OS_LOCKING_OK;
        return args;
    }

    /** A partition of this module failed ({@code who} identifies it) or came back. */
    synchronized void markDown(Object who) {
        down.add(who);
    }

    synchronized void markUp(Object who, Duration initial) {
        // A library that serves a connection is not broken, however its last re-initialisation went (SoftHSM2 can
        // refuse C_Initialize and still come back once its configuration is readable again).
        failuresInARow = 0;
        lastFailure = null;
        if (down.remove(who) && down.isEmpty()) {
            delay = initial;
            nextAttemptAt = Instant.MIN;
        }
    }

    /**
     * Re-initialises the library unless the backoff says not yet.
     *
     * @param seen the generation the caller's failed call ran under
     * @return true when the library has been re-initialised since {@code seen} (by this call or another)
     */
    boolean reinitialiseIfDue(long seen, Clock clock, Duration initial, Duration max) {
        synchronized (this) {
            if (generation.get() != seen) {
                return true;
            }
            Instant now = clock.instant();
            if (now.isBefore(nextAttemptAt)) {
                return false;
            }
            Duration d = delay == null ? initial : delay;
            nextAttemptAt = now.plus(d);
            delay = d.multipliedBy(2).compareTo(max) > 0 ? max : d.multipliedBy(2);
            lastAttemptAt = now;
        }
        ReentrantReadWriteLock.WriteLock w = lock.writeLock();
        boolean locked;
        try {
            locked = w.tryLock(DRAIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        if (!locked) {
            LOG.warnf(
                    "PKCS#11 library %s: calls in flight did not finish within %d s; not re-initialising now",
                    library, DRAIN_TIMEOUT_SECONDS);
            return false;
        }
        try {
            if (generation.get() != seen) {
                return true;
            }
            reinitialise();
            synchronized (this) {
                failuresInARow = 0;
                lastFailure = null;
                reinitialisations++;
            }
            LOG.infof(
                    "PKCS#11 library %s re-initialised (C_Finalize, C_Initialize); partitions reconnect and log in"
                            + " again",
                    library);
            return true;
        } catch (Exception | LinkageError e) {
            String why = describe(e);
            synchronized (this) {
                failuresInARow++;
                lastFailure = why;
            }
            LOG.warnf("PKCS#11 library %s: re-initialisation failed (%s)", library, why);
            return false;
        } finally {
            w.unlock();
        }
    }

    /** Called with the write lock held. */
    private void reinitialise() throws Exception {
        PKCS11 old = p11();
        try {
            old.C_Finalize(null);
        } catch (PKCS11Exception e) {
            if (e.getErrorCode() != Pkcs11Codes.CKR_CRYPTOKI_NOT_INITIALIZED) {
                LOG.debugf(
                        "PKCS#11 library %s: C_Finalize answered %s; initialising again anyway",
                        library, Pkcs11Codes.name(e.getErrorCode()));
            }
        } finally {
            // Whatever C_Finalize answered, sessions and handles from before may be gone.
            generation.incrementAndGet();
        }
        Path path = Path.of(library);
        Path dir = path.getParent();
        if (!path.isAbsolute() || dir == null) {
            throw new IllegalStateException("the library path is not absolute, so it cannot be loaded again under"
                    + " another name (configure it with an absolute path)");
        }
        for (int i = 0; i < MAX_ALIASES_PER_ATTEMPT; i++) {
            int n = aliases.getAndIncrement();
            PKCS11 fresh = PKCS11.getInstance(
                    alias(dir.toString(), path.getFileName().toString(), n), "C_GetFunctionList", initArgs(), false);
            try {
                fresh.C_GetInfo();
                p11 = fresh;
                return;
            } catch (PKCS11Exception e) {
                if (e.getErrorCode() != Pkcs11Codes.CKR_CRYPTOKI_NOT_INITIALIZED) {
                    throw e;
                }
                // That spelling was used before (by another copy of this class): getInstance did not initialise.
            }
        }
        throw new IllegalStateException("no unused spelling of the library path found");
    }

    /**
     * The n-th spelling of {@code dir/name}: n in binary after its leading 1, each 1 written {@code ./} and each 0
     * {@code /}, so spellings never repeat and grow with log n.
     */
    static String alias(String dir, String name, int n) {
        StringBuilder b = new StringBuilder(dir).append('/');
        String bits = Integer.toBinaryString(n);
        for (int i = 0; i < bits.length(); i++) {
            b.append(bits.charAt(i) == '1' ? "./" : "/");
        }
        return b.append(name).toString();
    }

    /** What the liveness check and the health group show. */
    record Status(
            String library,
            long generation,
            long reinitialisations,
            int failuresInARow,
            String lastFailure,
            Instant lastAttemptAt) {}

    synchronized Status status() {
        return new Status(library, generation.get(), reinitialisations, failuresInARow, lastFailure, lastAttemptAt);
    }

    /** True after {@code livenessFailures} failed re-initialisations in a row: this process cannot recover. */
    synchronized boolean broken(int livenessFailures) {
        return livenessFailures > 0 && failuresInARow >= livenessFailures;
    }

    private static String describe(Throwable t) {
        for (Throwable x = t; x != null; x = x.getCause() == x ? null : x.getCause()) {
            if (x instanceof PKCS11Exception p) {
                return Pkcs11Codes.name(p.getErrorCode());
            }
        }
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }
}
