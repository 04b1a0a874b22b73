package dev.keyhold.hsm;

import dev.keyhold.domain.SigningAlgorithm;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.Lock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.security.auth.login.FailedLoginException;
import org.jboss.logging.Logger;
import sun.security.pkcs11.wrapper.PKCS11Exception;

/**
 * {@link HsmPort} over the JDK's PKCS#11 support (the wrapper SunPKCS11 is built on; see {@link Pkcs11Token} for why
 * not the provider's KeyStore): one connection per partition, never registered as a JCA provider, so no other code
 * in the JVM can pick up an HSM key by accident.
 *
 * <p>Connections are made lazily and dropped after a failure that means the token or session is gone; the next
 * call reconnects. A partition that is down at startup therefore does not stop the application, the health group
 * {@code hsm} ({@link #check}) reports it, and it comes into use when it comes up. When sessions keep failing the
 * PKCS#11 library is re-initialised in-process, with backoff ({@link Pkcs11Module}); a refused PIN is never tried
 * again.
 *
 * <p>Everything the PKCS#11 stack throws, {@link LinkageError} included (a wrapper class that differs between JDK
 * releases), is caught here and wrapped once into an {@link HsmException}.
 */
@ApplicationScoped
public class SunPkcs11Hsm implements HsmPort {

    private static final Logger LOG = Logger.getLogger(SunPkcs11Hsm.class);

    /** The JVM option every JVM that uses this adapter needs; the packaged jar's manifest carries it. */
    public static final String REQUIRED_JVM_OPTION = Pkcs11Token.EXPORT_OPTION;

    /** Partition names appear in logs, metrics and problem details; keep them to plain words. */
    private static final Pattern PARTITION_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,62}");

    private static final Pattern PKCS11_CODE = Pattern.compile("CKR_[A-Za-z0-9_]+");

    private static final Set<String> PIN_CODES =
            Set.of("CKR_PIN_INCORRECT", "CKR_PIN_INVALID", "CKR_PIN_LEN_RANGE", "CKR_PIN_LOCKED", "CKR_PIN_EXPIRED");

    private static final Set<String> MISSING_CODES = Set.of("CKR_KEY_HANDLE_INVALID", "CKR_OBJECT_HANDLE_INVALID");

    /** Codes after which the connection is not worth keeping: the next call should build a fresh one. */
    private static final Set<String> UNAVAILABLE_CODES = Set.of(
            "CKR_GENERAL_ERROR",
            "CKR_DEVICE_ERROR",
            "CKR_DEVICE_MEMORY",
            "CKR_DEVICE_REMOVED",
            "CKR_TOKEN_NOT_PRESENT",
            "CKR_TOKEN_NOT_RECOGNIZED",
            "CKR_SLOT_ID_INVALID",
            "CKR_SESSION_HANDLE_INVALID",
            "CKR_SESSION_CLOSED",
            "CKR_SESSION_COUNT",
            "CKR_CRYPTOKI_NOT_INITIALIZED",
            "CKR_USER_NOT_LOGGED_IN",
            "CKR_HOST_MEMORY");

    /**
     * How to reach one partition's token. Exactly one of {@code slot} and {@code slotListIndex} may be set;
     * with neither, SunPKCS11 uses the first slot of the library's list.
     */
    public record PartitionSettings(String library, Integer slot, Integer slotListIndex, String pin) {

        public PartitionSettings {
            if (library == null || library.isBlank() || library.contains("\n") || library.contains("\"")) {
                throw new IllegalArgumentException("PKCS#11 library path must be a single non-blank line");
            }
            if (slot != null && slotListIndex != null) {
                throw new IllegalArgumentException("set either slot or slot-list-index, not both");
            }
            if (slotListIndex != null && slotListIndex < 0) {
                throw new IllegalArgumentException("slot-list-index must not be negative");
            }
            Objects.requireNonNull(pin, "pin");
        }

        public static PartitionSettings of(HsmConfig.Partition p) {
            return new PartitionSettings(
                    p.library(),
                    p.slot().isPresent() ? p.slot().getAsInt() : null,
                    p.slotListIndex().isPresent() ? p.slotListIndex().getAsInt() : null,
                    p.pin());
        }

        /** The record's generated toString would print the PIN. */
        @Override
        public String toString() {
            return "PartitionSettings[library=" + library + ", slot=" + slot + ", slotListIndex=" + slotListIndex
                    + ", pin=(hidden)]";
        }
    }

    /** Default recovery settings for the plain constructor (tests, tools). */
    public record Recovery(Duration initialBackoff, Duration maxBackoff, int livenessFailures) {
        public static final Recovery DEFAULT = new Recovery(Duration.ofSeconds(1), Duration.ofMinutes(1), 3);

        static Recovery of(HsmConfig.Recovery r) {
            return new Recovery(r.initialBackoff(), r.maxBackoff(), r.livenessFailures());
        }
    }

    private final Map<String, PartitionState> partitions;
    private final Clock clock;
    private final Recovery recovery;
    private final HsmMetrics metrics;

    @Inject
    public SunPkcs11Hsm(HsmConfig config, Clock clock, Instance<MeterRegistry> registry) {
        this(
                settingsOf(config),
                clock,
                Recovery.of(config.recovery()),
                registry.isResolvable() ? registry.get() : null);
    }

    public SunPkcs11Hsm(Map<String, PartitionSettings> settings) {
        this(settings, Clock.systemUTC(), Recovery.DEFAULT, null);
    }

    public SunPkcs11Hsm(
            Map<String, PartitionSettings> settings, Clock clock, Recovery recovery, MeterRegistry registry) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.recovery = Objects.requireNonNull(recovery, "recovery");
        this.metrics = registry == null ? HsmMetrics.NONE : new HsmMetrics(registry);
        Map<String, PartitionState> m = new TreeMap<>();
        settings.forEach((name, s) -> {
            if (!PARTITION_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException(
                        "invalid HSM partition name '" + name + "': use letters, digits, '-' and '_' (at most 63)");
            }
            m.put(name, new PartitionState(name, Objects.requireNonNull(s, "settings of " + name)));
        });
        if (!m.isEmpty() && !Pkcs11Token.wrapperAccessible()) {
            // A deployment mistake that no retry can fix: say exactly what is missing, once, at startup.
            throw new IllegalStateException("Keyhold reaches the HSM through the JDK's PKCS#11 wrapper: start the"
                    + " JVM with " + REQUIRED_JVM_OPTION + " (java -jar quarkus-run.jar does this itself)");
        }
        this.partitions = Collections.unmodifiableMap(m);
    }

    private static Map<String, PartitionSettings> settingsOf(HsmConfig config) {
        Map<String, PartitionSettings> m = new LinkedHashMap<>();
        config.partitions().forEach((name, p) -> m.put(name, PartitionSettings.of(p)));
        return m;
    }

    // ---------------------------------------------------------------------------------------------- the port

    @Override
    public PublicKey generate(String partition, String handle, SigningAlgorithm alg) {
        requireHandle(handle);
        Objects.requireNonNull(alg, "alg");
        PartitionState p = state(partition);
        return p.call("generate", "generate key '" + handle + "'", false, c -> {
            // Check-then-create must not interleave with another generate or destroy of this instance.
            synchronized (c.writeLock) {
                ensureLoggedIn(p, c);
                return c.token.withSession(s -> {
                    if (c.knownHandles == null) {
                        c.knownHandles = new HashSet<>(c.token.handles(s));
                    }
                    if (c.knownHandles.contains(handle)) {
                        throw new Refused("HSM partition '" + partition + "' already holds a key '" + handle + "'");
                    }
                    Pkcs11Token.Generated g = c.token.generate(s, handle, alg);
                    c.knownHandles.add(handle);
                    c.keys.put(handle, new KeyRef(g.privateKey(), g.publicKey()));
                    return g.publicKey();
                });
            }
        });
    }

    @Override
    public byte[] sign(String partition, String handle, SigningAlgorithm alg, byte[] data) {
        requireHandle(handle);
        Objects.requireNonNull(alg, "alg");
        Objects.requireNonNull(data, "data");
        PartitionState p = state(partition);
        // Retrying is safe for a signature, and lets a cached key handle that went stale (key destroyed by another
        // instance, token logged out) be looked up afresh before the caller hears about it.
        return p.call("sign", "sign with key '" + handle + "'", true, c -> {
            KeyRef k = key(p, c, handle);
            requireCompatible(partition, handle, k.publicKey(), alg);
            try {
                byte[] sig = c.token.withSession(s -> c.token.sign(s, k.object(), alg, data));
                if (alg.isEc() && sig.length != alg.ecSignatureLength()) {
                    throw new IllegalStateException("the token returned an ECDSA signature of " + sig.length
                            + " bytes, expected " + alg.ecSignatureLength());
                }
                return sig;
            } catch (Exception | Error e) {
                c.keys.remove(handle, k);
                throw e;
            }
        });
    }

    @Override
    public PublicKey publicKey(String partition, String handle) {
        requireHandle(handle);
        PartitionState p = state(partition);
        return p.call("public-key", "read public key '" + handle + "'", true, c -> {
            KeyRef cached = c.keys.get(handle);
            if (cached != null) {
                return cached.publicKey();
            }
            // From the public object alone: a retired or revoked key has no private object any more (invariant 9).
            return c.token.withSession(s -> {
                Optional<PublicKey> pub = c.token.certificatePublicKey(s, handle);
                if (pub.isEmpty()) {
                    c.token.probe();
                    throw missing(p.name, handle);
                }
                return pub.get();
            });
        });
    }

    @Override
    public void destroy(String partition, String handle) {
        requireHandle(handle);
        PartitionState p = state(partition);
        p.call("destroy", "destroy key '" + handle + "'", false, c -> {
            synchronized (c.writeLock) {
                // Logged out, the token hides private objects; make sure "absent" means absent.
                ensureLoggedIn(p, c);
                c.keys.remove(handle);
                int destroyed = c.token.withSession(s -> c.token.destroy(s, handle));
                c.keys.remove(handle);
                if (c.knownHandles != null) {
                    c.knownHandles.remove(handle);
                }
                if (destroyed == 0) {
                    c.token.probe();
                    throw missing(partition, handle);
                }
                return null;
            }
        });
    }

    @Override
    public PublicKey signingPublicKey(String partition, String handle) {
        requireHandle(handle);
        PartitionState p = state(partition);
        return p.call(
                "public-key",
                "read public key '" + handle + "'",
                true,
                c -> key(p, c, handle).publicKey());
    }

    @Override
    public boolean destroyPrivate(String partition, String handle) {
        requireHandle(handle);
        PartitionState p = state(partition);
        return p.call("destroy-private", "destroy the private key of '" + handle + "'", false, c -> {
            synchronized (c.writeLock) {
                // Logged out, the token hides private objects: "none found" must mean none there.
                ensureLoggedIn(p, c);
                c.keys.remove(handle);
                int destroyed = c.token.withSession(s -> c.token.destroyPrivate(s, handle));
                c.keys.remove(handle);
                if (destroyed == 0) {
                    // A token that lost its storage finds nothing: never take that for "already gone".
                    c.token.probe();
                }
                return destroyed > 0;
            }
        });
    }

    @Override
    public void putData(String partition, String label, byte[] value) {
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(value, "value");
        PartitionState p = state(partition);
        p.call("put-data", "write data object '" + label + "'", false, c -> {
            synchronized (c.writeLock) {
                ensureLoggedIn(p, c);
                return c.token.withSession(s -> {
                    c.token.putData(s, label, value);
                    return null;
                });
            }
        });
    }

    @Override
    public List<String> listPrivate(String partition) {
        PartitionState p = state(partition);
        return p.call("list", "list private keys", true, c -> {
            ensureLoggedIn(p, c);
            List<String> handles = c.token.withSession(c.token::privateHandles);
            c.token.probe();
            return handles;
        });
    }

    @Override
    public java.util.Optional<byte[]> getData(String partition, String label) {
        Objects.requireNonNull(label, "label");
        PartitionState p = state(partition);
        return p.call("get-data", "read data object '" + label + "'", true, c -> {
            // Logged out, the token hides private objects: "absent" must mean absent.
            ensureLoggedIn(p, c);
            java.util.Optional<byte[]> v = c.token.withSession(s -> c.token.getData(s, label));
            if (v.isEmpty()) {
                c.token.probe();
            }
            return v;
        });
    }

    @Override
    public List<String> list(String partition) {
        PartitionState p = state(partition);
        return p.call("list", "list keys", true, c -> {
            ensureLoggedIn(p, c);
            synchronized (c.writeLock) {
                List<String> handles = c.token.withSession(c.token::handles);
                // A token that lost its storage lists nothing rather than failing: never take that for "empty".
                c.token.probe();
                // The token as it is now, including what other instances made or destroyed since the last look.
                c.knownHandles = new HashSet<>(handles);
                return handles;
            }
        });
    }

    @Override
    public Set<String> partitions() {
        return partitions.keySet();
    }

    @Override
    public void check(String partition) {
        PartitionState p = state(partition);
        p.call("check", "check", true, c -> {
            ensureLoggedIn(p, c);
            c.token.probe();
            return null;
        });
    }

    @Override
    public List<LibraryStatus> libraries() {
        Map<Pkcs11Module, List<String>> byModule = new LinkedHashMap<>();
        partitions
                .values()
                .forEach(p -> byModule.computeIfAbsent(p.module, k -> new ArrayList<>())
                        .add(p.name));
        List<LibraryStatus> out = new ArrayList<>();
        byModule.forEach((m, names) -> {
            Pkcs11Module.Status s = m.status();
            out.add(new LibraryStatus(
                    s.library(),
                    List.copyOf(names),
                    s.reinitialisations(),
                    s.failuresInARow(),
                    s.lastFailure(),
                    s.lastAttemptAt(),
                    m.broken(recovery.livenessFailures())));
        });
        return out;
    }

    // ---------------------------------------------------------------------------------------------- internals

    private PartitionState state(String partition) {
        PartitionState p = partition == null ? null : partitions.get(partition);
        if (p == null) {
            throw new UnknownPartitionException(partition, "unknown HSM partition '" + partition + "'");
        }
        return p;
    }

    private static void requireHandle(String handle) {
        if (handle == null || handle.isBlank()) {
            throw new IllegalArgumentException("HSM key handle must not be blank");
        }
    }

    private static HsmObjectMissingException missing(String partition, String handle) {
        return new HsmObjectMissingException(
                partition, "HSM partition '" + partition + "' holds no key '" + handle + "'");
    }

    /**
     * The cached key of {@code handle}, looked up in the token by CKA_ID on first use. Object handles of token
     * objects stay valid for the whole process, across sessions.
     */
    private static KeyRef key(PartitionState p, Connection c, String handle) throws Exception {
        KeyRef cached = c.keys.get(handle);
        if (cached != null) {
            return cached;
        }
        KeyRef fresh = c.token.withSession(s -> {
            long object = c.token.findPrivateKey(s, handle);
            if (object == 0L) {
                // A token that lost its login hides private objects: log in again before calling the key missing.
                ensureLoggedIn(p, c);
                object = c.token.findPrivateKey(s, handle);
            }
            Optional<PublicKey> pub = c.token.certificatePublicKey(s, handle);
            if (object == 0L || pub.isEmpty()) {
                c.token.probe();
                throw missing(p.name, handle);
            }
            return new KeyRef(object, pub.get());
        });
        KeyRef raced = c.keys.putIfAbsent(handle, fresh);
        return raced != null ? raced : fresh;
    }

    private static void requireCompatible(String partition, String handle, PublicKey pub, SigningAlgorithm alg) {
        boolean fits;
        if (pub instanceof ECPublicKey ec) {
            fits = alg.isEc() && ec.getParams().getOrder().bitLength() == alg.curveOrderBits();
        } else if (pub instanceof RSAPublicKey) {
            fits = !alg.isEc();
        } else {
            fits = false;
        }
        if (!fits) {
            throw new Refused("key '" + handle + "' in HSM partition '" + partition + "' cannot sign " + alg);
        }
    }

    /**
     * Logs the token in unless it already is. PKCS#11 login state belongs to the token and the whole process, so
     * when it is already logged in this is one C_GetSessionInfo and the PIN is not even looked at.
     */
    private static void ensureLoggedIn(PartitionState p, Connection c) throws Exception {
        char[] pin = p.settings.pin().toCharArray();
        try {
            c.token.ensureLoggedIn(pin);
        } finally {
            java.util.Arrays.fill(pin, '\0');
        }
    }

    /** Wraps any failure exactly once into the typed exception a caller can act on. */
    static HsmException classify(String partition, String operation, Throwable t) {
        if (t instanceof HsmException h) {
            return h;
        }
        if (t instanceof LinkageError) {
            return new HsmOperationException(
                    partition,
                    "HSM partition '" + partition + "': " + operation
                            + " failed: the JDK's PKCS#11 layer does not match this build ("
                            + t.getClass().getSimpleName()
                            + ")",
                    t);
        }
        String code = pkcs11Code(t);
        String prefix = "HSM partition '" + partition + "': " + operation + " failed";
        String detail = code != null ? code : rootMessage(t);
        String message = detail == null ? prefix : prefix + " (" + detail + ")";
        if (hasCause(t, FailedLoginException.class) || (code != null && PIN_CODES.contains(code))) {
            return new HsmAuthenticationException(
                    partition,
                    "HSM partition '" + partition + "': the token refused the configured PIN during " + operation
                            + (code != null ? " (" + code + ")" : ""),
                    t);
        }
        if (code != null && MISSING_CODES.contains(code)) {
            return new HsmObjectMissingException(partition, message, t);
        }
        if ((code != null && UNAVAILABLE_CODES.contains(code)) || mentionsTokenRemoved(t)) {
            return new HsmUnavailableException(partition, message, t);
        }
        return new HsmOperationException(partition, message, t);
    }

    /**
     * The CKR_ name of the first PKCS#11 return value in the chain: from the wrapper's exception by number (its
     * message and constants differ between JDK releases), else from a message that names one.
     */
    private static String pkcs11Code(Throwable t) {
        for (Throwable x = t; x != null; x = x.getCause() == x ? null : x.getCause()) {
            if (x instanceof PKCS11Exception p) {
                return Pkcs11Codes.name(p.getErrorCode());
            }
        }
        for (Throwable x = t; x != null; x = x.getCause() == x ? null : x.getCause()) {
            if (x.getMessage() != null) {
                Matcher m = PKCS11_CODE.matcher(x.getMessage());
                if (m.find()) {
                    return m.group();
                }
            }
        }
        return null;
    }

    private static boolean mentionsTokenRemoved(Throwable t) {
        for (Throwable x = t; x != null; x = x.getCause() == x ? null : x.getCause()) {
            if (x.getMessage() != null && x.getMessage().contains("Token has been removed")) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable x = t; x != null; x = x.getCause() == x ? null : x.getCause()) {
            if (type.isInstance(x)) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable t) {
        String msg = null;
        for (Throwable x = t; x != null; x = x.getCause() == x ? null : x.getCause()) {
            if (x.getMessage() != null && !x.getMessage().isBlank()) {
                msg = x.getMessage();
            }
        }
        return msg;
    }

    // ---------------------------------------------------------------------------------------------- state

    @FunctionalInterface
    private interface Op<T> {
        T apply(Connection c) throws Exception;
    }

    /** A caller error detected inside an operation; passes the boundary untouched. */
    private static final class Refused extends IllegalArgumentException {
        Refused(String message) {
            super(message);
        }
    }

    /** A private key object of the token and the public key from its container certificate. */
    private record KeyRef(long object, PublicKey publicKey) {}

    /** A logged-in token for one partition, with its key handle cache. */
    private static final class Connection {
        final Pkcs11Token token;
        /** Object handles are valid for the process's lifetime; looking one up costs an object search. */
        final ConcurrentMap<String, KeyRef> keys = new ConcurrentHashMap<>();

        final Object writeLock = new Object();
        /**
         * Guarded by writeLock; null until first needed. The handles in the token, read once and then kept up to
         * date by this instance's generate and destroy and refreshed by every {@link #list} (the reconciler lists
         * periodically). It answers generate's "already there?" without an object search, which on SoftHSM2 costs
         * a file read per object in the token. Handles are random ({@code KeyHandles}), so a clash is a bug; one
         * with an object another instance made since the last listing is the only kind this cannot see.
         */
        Set<String> knownHandles;

        Connection(Pkcs11Token token) {
            this.token = token;
        }
    }

    private final class PartitionState {
        final String name;
        final PartitionSettings settings;
        final Pkcs11Module module;
        private volatile Connection connection;
        /** Guarded by this; only so a down partition logs one warning per outage instead of one per call. */
        private boolean down;
        /**
         * Guarded by this. Set once the token refused the PIN, or logging in failed in a way that cannot tell
         * whether it did (a {@link LinkageError} in the wrapper): HSMs lock the user after a few wrong PINs, and a
         * health probe retrying every few seconds would get there quickly. The PIN only changes with a restart.
         */
        private HsmException refusedPin;

        PartitionState(String name, PartitionSettings settings) {
            this.name = name;
            this.settings = settings;
            this.module = Pkcs11Module.of(settings.library());
        }

        <T> T call(String kind, String operation, boolean retryOnce, Op<T> op) {
            long start = System.nanoTime();
            HsmException failure = null;
            try {
                return callOnce(operation, retryOnce, op);
            } catch (HsmException e) {
                failure = e;
                throw e;
            } finally {
                metrics.record(name, kind, System.nanoTime() - start, failure);
            }
        }

        private <T> T callOnce(String operation, boolean retryOnce, Op<T> op) {
            long generation = module.generation();
            try {
                return attempt(operation, op);
            } catch (HsmUnavailableException first) {
                // The connection is dropped already. If sessions keep failing, only a fresh C_Initialize of the
                // library may help (see Pkcs11Module); it is spaced by backoff. Generation and destruction are not
                // repeated here: the caller hears 503 and tries again.
                module.reinitialiseIfDue(generation, clock, recovery.initialBackoff(), recovery.maxBackoff());
                if (!retryOnce) {
                    throw first;
                }
                return retry(operation, op, first);
            } catch (HsmObjectMissingException first) {
                // A PKCS#11 "handle invalid" dropped a cached key. One fresh try tells a stale handle from a
                // really absent key. A key found absent by a fresh lookup (no cause) is final.
                boolean staleHandle = first.getCause() != null;
                if (!retryOnce || !staleHandle) {
                    throw first;
                }
                return retry(operation, op, first);
            }
        }

        private <T> T retry(String operation, Op<T> op, HsmException first) {
            try {
                return attempt(operation, op);
            } catch (HsmException second) {
                if (second != first) {
                    second.addSuppressed(first);
                }
                throw second;
            }
        }

        private <T> T attempt(String operation, Op<T> op) {
            // Every call into the library holds the module's read lock: re-initialisation must not run under it.
            Lock read = module.lock.readLock();
            read.lock();
            try {
                Connection c = connection();
                try {
                    return op.apply(c);
                } catch (Refused e) {
                    throw e;
                } catch (Exception | LinkageError e) {
                    HsmException typed = classify(name, operation, e);
                    if (typed instanceof HsmAuthenticationException auth) {
                        rememberRefusedPin(auth);
                    }
                    if (typed instanceof HsmUnavailableException || typed instanceof HsmAuthenticationException) {
                        invalidate(c, typed);
                    }
                    throw typed;
                }
            } finally {
                read.unlock();
            }
        }

        /** Called with the module's read lock held. */
        private Connection connection() {
            Connection c = connection;
            long generation = module.generation();
            if (c != null && c.token.generation == generation) {
                return c;
            }
            synchronized (this) {
                if (connection != null && connection.token.generation != generation) {
                    // The library was re-initialised: these sessions are void, and closing them could close
                    // someone else's new session with the same number.
                    connection = null;
                }
                if (connection == null) {
                    connection = connect();
                }
                return connection;
            }
        }

        /** Called with this lock held. Every failure leaves {@code connection} null so the next call tries again. */
        private Connection connect() {
            if (refusedPin != null) {
                throw new HsmAuthenticationException(
                        name,
                        "HSM partition '" + name + "': the token refused the"
                                + " configured PIN earlier (or logging in failed in an unknown way); not trying it again so"
                                + " the token does not lock the user. Fix the PIN and restart",
                        refusedPin);
            }
            char[] pin = settings.pin().toCharArray();
            try {
                Connection c = new Connection(Pkcs11Token.open(module, settings.slot(), settings.slotListIndex(), pin));
                if (down) {
                    LOG.infof("HSM partition '%s' is available again", name);
                } else {
                    LOG.debugf("HSM partition '%s' connected%s", name, slotText());
                }
                down = false;
                module.markUp(this, recovery.initialBackoff());
                return c;
            } catch (Exception | LinkageError e) {
                HsmException typed = classify(name, "connect", e);
                if (typed instanceof HsmAuthenticationException auth) {
                    rememberRefusedPin(auth);
                    throw noteDown(typed);
                }
                if (e instanceof LinkageError) {
                    // Whether the token refused the PIN is unknown: do not risk another attempt.
                    rememberRefusedPin(typed);
                    throw noteDown(typed);
                }
                // Anything else while opening the token (library missing, no such slot, no token, a token that
                // does not answer) makes the partition unusable until a later call manages to connect.
                throw noteDown(new HsmUnavailableException(
                        name,
                        "HSM partition '" + name
                                + "': cannot open PKCS#11 library " + settings.library() + slotText()
                                + " (" + describe(e) + ")",
                        e));
            } finally {
                java.util.Arrays.fill(pin, '\0');
            }
        }

        private void rememberRefusedPin(HsmException e) {
            synchronized (this) {
                if (refusedPin == null) {
                    refusedPin = e;
                }
            }
        }

        private HsmException noteDown(HsmException e) {
            if (!down) {
                LOG.warnf("HSM partition '%s' is unusable: %s", name, e.getMessage());
            } else {
                LOG.debugf("HSM partition '%s' still unusable: %s", name, e.getMessage());
            }
            down = true;
            module.markDown(this);
            return e;
        }

        /** Called with the module's read lock held. */
        private void invalidate(Connection c, HsmException cause) {
            synchronized (this) {
                if (connection == c) {
                    connection = null;
                    if (c.token.generation == module.generation()) {
                        c.token.close();
                    }
                    if (!down) {
                        LOG.warnf(
                                "HSM partition '%s': dropping the connection, next call reconnects: %s",
                                name, cause.getMessage());
                    }
                    down = true;
                    module.markDown(this);
                }
            }
        }

        private String slotText() {
            if (settings.slot() != null) {
                return " slot " + settings.slot();
            }
            if (settings.slotListIndex() != null) {
                return " slot list index " + settings.slotListIndex();
            }
            return "";
        }

        private static String describe(Throwable t) {
            String code = pkcs11Code(t);
            return code != null ? code : String.valueOf(rootMessage(t));
        }
    }
}
