package dev.keyhold.hsm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.jboss.logging.Logger;

import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.FailedLoginException;
import javax.security.auth.login.LoginException;
import java.math.BigInteger;
import java.security.AuthProvider;
import java.security.Key;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Security;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@link HsmPort} over the JDK's SunPKCS11 provider: one privately held provider per partition, never registered
 * with {@link Security#addProvider}, so no other code in the JVM can pick up an HSM key by accident and each
 * partition's provider is addressed explicitly.
 *
 * <p>Connections are made lazily and dropped after a failure that means the token or session is gone; the next
 * call reconnects. A partition that is down at startup therefore does not stop the application, readiness
 * ({@link #check}) reports it, and it comes into use when it comes up.
 *
 * <p>Key persistence follows the PKCS11 KeyStore's rules: it keeps a private key only together with a
 * certificate chain, so {@link #generate} wraps the public key in a self-signed certificate signed by the new HSM
 * key itself. The certificate is a container, not a credential; nothing validates it.
 */
@ApplicationScoped
public class SunPkcs11Hsm implements HsmPort {

    private static final Logger LOG = Logger.getLogger(SunPkcs11Hsm.class);

    /** Partition names end up in the provider's config text and name; keep them to characters it parses as a word. */
    private static final Pattern PARTITION_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,62}");

    private static final Pattern PKCS11_CODE = Pattern.compile("CKR_[A-Z0-9_]+");

    private static final Set<String> PIN_CODES = Set.of(
            "CKR_PIN_INCORRECT", "CKR_PIN_INVALID", "CKR_PIN_LEN_RANGE", "CKR_PIN_LOCKED", "CKR_PIN_EXPIRED");

    private static final Set<String> MISSING_CODES = Set.of("CKR_KEY_HANDLE_INVALID", "CKR_OBJECT_HANDLE_INVALID");

    /** Codes after which the connection is not worth keeping: the next call should build a fresh one. */
    private static final Set<String> UNAVAILABLE_CODES = Set.of(
            "CKR_GENERAL_ERROR", "CKR_DEVICE_ERROR", "CKR_DEVICE_MEMORY", "CKR_DEVICE_REMOVED",
            "CKR_TOKEN_NOT_PRESENT", "CKR_TOKEN_NOT_RECOGNIZED", "CKR_SLOT_ID_INVALID",
            "CKR_SESSION_HANDLE_INVALID", "CKR_SESSION_CLOSED", "CKR_SESSION_COUNT",
            "CKR_CRYPTOKI_NOT_INITIALIZED", "CKR_USER_NOT_LOGGED_IN", "CKR_HOST_MEMORY");

    /*
     * The container certificate's validity. Fixed rather than read from a clock: nothing checks these dates, and
     * 9999-12-31T23:59:59Z is RFC 5280 §4.1.2.5's "no well-defined expiration date".
     */
    private static final Date CERT_NOT_BEFORE = new Date(0L);
    private static final Date CERT_NOT_AFTER = Date.from(Instant.parse("9999-12-31T23:59:59Z"));

    private static final SecureRandom SERIALS = new SecureRandom();

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
            return new PartitionSettings(p.library(),
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

    private final Map<String, PartitionState> partitions;

    @Inject
    public SunPkcs11Hsm(HsmConfig config) {
        this(settingsOf(config));
    }

    public SunPkcs11Hsm(Map<String, PartitionSettings> settings) {
        Map<String, PartitionState> m = new TreeMap<>();
        settings.forEach((name, s) -> {
            if (!PARTITION_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("invalid HSM partition name '" + name
                        + "': use letters, digits, '-' and '_' (at most 63)");
            }
            m.put(name, new PartitionState(name, Objects.requireNonNull(s, "settings of " + name)));
        });
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
        return p.call("generate key '" + handle + "'", false, c -> {
            // Check-then-store must not interleave with another generate or destroy of this instance.
            synchronized (c.writeLock) {
                ensureLoggedIn(p, c);
                if (c.keyStore.containsAlias(handle)) {
                    throw new Refused("HSM partition '" + partition + "' already holds a key '" + handle + "'");
                }
                KeyPairGenerator kpg = KeyPairGenerator.getInstance(alg.keyType(), c.provider);
                kpg.initialize(alg.keyGenSpec());
                KeyPair pair = kpg.generateKeyPair();
                PublicKey pub = jdkPublicKey(pair.getPublic());
                X509Certificate cert = containerCertificate(handle, pub, pair.getPrivate(), alg, c.provider);
                // Copies the session key into a token object with CKA_ID = handle (the certificate carries the
                // handle as CKA_LABEL too); the key's attributes from the provider config's stanza (sensitive,
                // never extractable, sign-only) travel with the copy. No public key object is stored: the
                // certificate holds the public key.
                c.keyStore.setKeyEntry(handle, pair.getPrivate(), null, new Certificate[]{cert});
                c.keys.remove(handle);
                return pub;
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
        return p.call("sign with key '" + handle + "'", true, c -> {
            KeyRef k = key(p, c, handle);
            requireCompatible(partition, handle, k.publicKey(), alg);
            try {
                Signature s = Signature.getInstance(alg.jcaSignatureName(), c.provider);
                AlgorithmParameterSpec params = alg.signatureParams();
                if (params != null) {
                    s.setParameter(params);
                }
                s.initSign(k.privateKey());
                s.update(data);
                byte[] raw = s.sign();
                return alg.isEc() ? EcdsaSignatures.derToJose(raw, alg.ecSignatureLength()) : raw;
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
        return p.call("read public key '" + handle + "'", true, c -> key(p, c, handle).publicKey());
    }

    @Override
    public void destroy(String partition, String handle) {
        requireHandle(handle);
        PartitionState p = state(partition);
        p.call("destroy key '" + handle + "'", false, c -> {
            synchronized (c.writeLock) {
                // Logged out, the token hides private objects; make sure "absent" means absent.
                ensureLoggedIn(p, c);
                reloadAliases(p, c);
                if (!c.keyStore.containsAlias(handle)) {
                    throw missing(partition, handle);
                }
                c.keys.remove(handle);
                c.keyStore.deleteEntry(handle);
                c.keys.remove(handle);
                return null;
            }
        });
    }

    @Override
    public List<String> list(String partition) {
        PartitionState p = state(partition);
        return p.call("list keys", true, c -> {
            ensureLoggedIn(p, c);
            synchronized (c.writeLock) {
                reloadAliases(p, c);
                List<String> aliases = new ArrayList<>(Collections.list(c.keyStore.aliases()));
                Collections.sort(aliases);
                return List.copyOf(aliases);
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
        p.call("check", true, c -> {
            ensureLoggedIn(p, c);
            return null;
        });
    }

    /**
     * The provider's handle of the private key; for tests in this package that prove it carries no key material.
     * Never returned through the port.
     */
    PrivateKey privateKey(String partition, String handle) {
        PartitionState p = state(partition);
        return p.call("read private key handle '" + handle + "'", true, c -> key(p, c, handle).privateKey());
    }

    /** The partition's current provider; for tests in this package that try export routes against it. */
    Provider providerForTest(String partition) {
        return state(partition).call("connect", true, c -> c.provider);
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
        return new HsmObjectMissingException(partition,
                "HSM partition '" + partition + "' holds no key '" + handle + "'");
    }

    /** The cached key pair of {@code handle}, looked up in the token on first use. */
    private static KeyRef key(PartitionState p, Connection c, String handle) throws Exception {
        KeyRef cached = c.keys.get(handle);
        if (cached != null) {
            return cached;
        }
        Key key = c.keyStore.getKey(handle, null);
        if (!(key instanceof PrivateKey)) {
            // A token that lost its login hides private objects: log in again before calling the key missing.
            ensureLoggedIn(p, c);
            key = c.keyStore.getKey(handle, null);
        }
        Certificate cert = c.keyStore.getCertificate(handle);
        if (!(key instanceof PrivateKey) || cert == null) {
            throw missing(p.name, handle);
        }
        KeyRef fresh = new KeyRef((PrivateKey) key, jdkPublicKey(cert.getPublicKey()));
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
     * A plain JDK public key: independent of the partition's provider (which may be replaced on reconnect) and
     * usable by any verifier.
     */
    private static PublicKey jdkPublicKey(PublicKey pub) throws Exception {
        return KeyFactory.getInstance(pub.getAlgorithm()).generatePublic(new X509EncodedKeySpec(pub.getEncoded()));
    }

    private static X509Certificate containerCertificate(String handle, PublicKey pub, PrivateKey priv,
                                                        SigningAlgorithm alg, Provider provider) throws Exception {
        X500Name name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, handle).build();
        BigInteger serial = new BigInteger(63, SERIALS).add(BigInteger.ONE);
        // Signed in the HSM by the new key: the private key never has to leave the token, and a successful
        // signature doubles as a smoke test of the fresh key.
        String certAlg = switch (alg) {
            case ES256 -> "SHA256withECDSA";
            case ES384 -> "SHA384withECDSA";
            case RS256, PS256 -> "SHA256withRSA";
        };
        ContentSigner signer = new JcaContentSignerBuilder(certAlg).setProvider(provider).build(priv);
        X509CertificateHolder holder = new JcaX509v3CertificateBuilder(
                name, serial, CERT_NOT_BEFORE, CERT_NOT_AFTER, name, pub).build(signer);
        return new JcaX509CertificateConverter().getCertificate(holder);
    }

    /**
     * Logs the token in unless it already is. PKCS#11 login state belongs to the token and the whole process, so
     * when it is already logged in this is one C_GetSessionInfo and the PIN is not even looked at.
     */
    /**
     * The PKCS11 KeyStore maps aliases to objects once, at load: objects another process or instance generated or
     * destroyed since then are invisible to it. Reloading re-reads the token, so {@link #list} and
     * {@link #destroy} see the token as it is (reconciliation depends on that). Cached signing handles stay valid.
     */
    private static void reloadAliases(PartitionState p, Connection c) throws Exception {
        c.keyStore.load(null, p.settings.pin().toCharArray());
    }

    private static void ensureLoggedIn(PartitionState p, Connection c) throws LoginException {
        ((AuthProvider) c.provider).login(null, callbacks -> {
            for (var cb : callbacks) {
                if (cb instanceof PasswordCallback pc) {
                    pc.setPassword(p.settings.pin().toCharArray());
                } else {
                    throw new UnsupportedCallbackException(cb);
                }
            }
        });
    }

    /** Wraps any failure exactly once into the typed exception a caller can act on. */
    static HsmException classify(String partition, String operation, Throwable t) {
        if (t instanceof HsmException h) {
            return h;
        }
        String code = pkcs11Code(t);
        String prefix = "HSM partition '" + partition + "': " + operation + " failed";
        String detail = code != null ? code : rootMessage(t);
        String message = detail == null ? prefix : prefix + " (" + detail + ")";
        if (hasCause(t, FailedLoginException.class) || (code != null && PIN_CODES.contains(code))) {
            return new HsmAuthenticationException(partition,
                    "HSM partition '" + partition + "': the token refused the configured PIN during " + operation
                            + (code != null ? " (" + code + ")" : ""), t);
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
     * The CKR_ code of the first PKCS11Exception in the chain. Its class is in a package the JDK does not export,
     * so the code is read from the message, which SunPKCS11 sets to the code's name.
     */
    private static String pkcs11Code(Throwable t) {
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

    /** SunPKCS11 inline configuration; the PIN is deliberately not part of it. */
    static String providerConfig(String partition, PartitionSettings s) {
        StringBuilder b = new StringBuilder();
        b.append("name = keyhold-").append(partition).append('\n');
        String lib = s.library();
        b.append("library = ").append(lib.chars().anyMatch(Character::isWhitespace) ? '"' + lib + '"' : lib)
                .append('\n');
        if (s.slot() != null) {
            b.append("slot = ").append(s.slot()).append('\n');
        } else if (s.slotListIndex() != null) {
            b.append("slotListIndex = ").append(s.slotListIndex()).append('\n');
        }
        // Invariant 2: private keys are born sensitive, never extractable, and can only sign.
        b.append("""
                attributes(generate, CKO_PRIVATE_KEY, *) = {
                  CKA_SENSITIVE = true
                  CKA_EXTRACTABLE = false
                  CKA_PRIVATE = true
                  CKA_SIGN = true
                  CKA_DECRYPT = false
                  CKA_UNWRAP = false
                  CKA_DERIVE = false
                }
                """);
        return b.toString();
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

    private record KeyRef(PrivateKey privateKey, PublicKey publicKey) {
    }

    /** A live provider for one partition, logged in, with its key handle cache. */
    private static final class Connection {
        final Provider provider;
        final KeyStore keyStore;
        /** Private key handles are valid for the session's lifetime; looking one up costs a full object scan. */
        final ConcurrentMap<String, KeyRef> keys = new ConcurrentHashMap<>();
        final Object writeLock = new Object();

        Connection(Provider provider, KeyStore keyStore) {
            this.provider = provider;
            this.keyStore = keyStore;
        }
    }

    private static final class PartitionState {
        final String name;
        final PartitionSettings settings;
        private volatile Connection connection;
        /** Guarded by this; only so a down partition logs one warning per outage instead of one per call. */
        private boolean down;
        /**
         * Guarded by this. Set once the token refused the PIN: HSMs lock the user after a few wrong PINs, and a
         * readiness probe retrying every few seconds would get there quickly. The PIN only changes with a restart.
         */
        private HsmAuthenticationException refusedPin;

        PartitionState(String name, PartitionSettings settings) {
            this.name = name;
            this.settings = settings;
        }

        <T> T call(String operation, boolean retryOnce, Op<T> op) {
            try {
                return attempt(operation, op);
            } catch (HsmUnavailableException | HsmObjectMissingException first) {
                // Unavailable dropped the connection; a PKCS#11 "handle invalid" dropped a cached key. One fresh
                // try tells a stale handle or session from a real outage or a really absent key. A key found
                // absent by a fresh lookup (no cause) is final.
                boolean staleHandle = first instanceof HsmObjectMissingException && first.getCause() != null;
                if (!retryOnce || (first instanceof HsmObjectMissingException && !staleHandle)) {
                    throw first;
                }
                try {
                    return attempt(operation, op);
                } catch (HsmException second) {
                    if (second != first) {
                        second.addSuppressed(first);
                    }
                    throw second;
                }
            }
        }

        private <T> T attempt(String operation, Op<T> op) {
            Connection c = connection();
            try {
                return op.apply(c);
            } catch (Refused e) {
                throw e;
            } catch (Exception e) {
                HsmException typed = classify(name, operation, e);
                if (typed instanceof HsmAuthenticationException auth) {
                    rememberRefusedPin(auth);
                }
                if (typed instanceof HsmUnavailableException || typed instanceof HsmAuthenticationException) {
                    invalidate(c, typed);
                }
                throw typed;
            }
        }

        private Connection connection() {
            Connection c = connection;
            if (c != null) {
                return c;
            }
            synchronized (this) {
                if (connection == null) {
                    connection = connect();
                }
                return connection;
            }
        }

        /** Called with the lock held. Every failure leaves {@code connection} null so the next call tries again. */
        private Connection connect() {
            if (refusedPin != null) {
                throw new HsmAuthenticationException(name, "HSM partition '" + name + "': the token refused the"
                        + " configured PIN earlier; not trying it again so the token does not lock the user."
                        + " Fix the PIN and restart", refusedPin);
            }
            Provider provider;
            try {
                Provider template = Security.getProvider("SunPKCS11");
                if (template == null) {
                    throw new IllegalStateException("the JDK's SunPKCS11 provider is not available");
                }
                provider = template.configure("--" + providerConfig(name, settings));
            } catch (RuntimeException e) {
                throw noteDown(new HsmUnavailableException(name, "HSM partition '" + name
                        + "': cannot initialise PKCS#11 library " + settings.library()
                        + slotText() + " (" + describe(e) + ")", e));
            }
            try {
                KeyStore ks = KeyStore.getInstance("PKCS11", provider);
                char[] pin = settings.pin().toCharArray();
                try {
                    ks.load(null, pin);
                } finally {
                    java.util.Arrays.fill(pin, '\0');
                }
                Connection c = new Connection(provider, ks);
                if (down) {
                    LOG.infof("HSM partition '%s' is available again", name);
                } else {
                    LOG.debugf("HSM partition '%s' connected%s", name, slotText());
                }
                down = false;
                return c;
            } catch (Exception e) {
                HsmException typed = classify(name, "login", e);
                if (typed instanceof HsmAuthenticationException auth) {
                    rememberRefusedPin(auth);
                }
                if (typed instanceof HsmOperationException) {
                    // Anything unexpected while opening the token makes the partition unusable.
                    typed = new HsmUnavailableException(name, typed.getMessage(), e);
                }
                throw noteDown(typed);
            }
        }

        private void rememberRefusedPin(HsmAuthenticationException e) {
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
            return e;
        }

        private void invalidate(Connection c, HsmException cause) {
            synchronized (this) {
                if (connection == c) {
                    connection = null;
                    LOG.warnf("HSM partition '%s': dropping the connection, next call reconnects: %s",
                            name, cause.getMessage());
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
