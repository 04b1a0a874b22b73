package dev.keyhold.hsm;

import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_APPLICATION;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_CERTIFICATE_TYPE;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_CLASS;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_DECRYPT;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_DERIVE;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_EC_PARAMS;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_EC_POINT;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_EXTRACTABLE;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_ID;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_ISSUER;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_LABEL;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_MODIFIABLE;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_MODULUS;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_MODULUS_BITS;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_PRIVATE;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_PUBLIC_EXPONENT;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_SENSITIVE;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_SERIAL_NUMBER;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_SIGN;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_SUBJECT;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_TOKEN;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_UNWRAP;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_VALUE;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_VERIFY;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKC_X_509;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKF_RW_SESSION;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKF_SERIAL_SESSION;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKM_ECDSA;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKM_EC_KEY_PAIR_GEN;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKM_RSA_PKCS_KEY_PAIR_GEN;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKM_SHA256_RSA_PKCS;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKM_SHA256_RSA_PKCS_PSS;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKO_CERTIFICATE;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKO_DATA;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKO_PRIVATE_KEY;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKS_RO_USER_FUNCTIONS;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKS_RW_USER_FUNCTIONS;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKU_USER;

import dev.keyhold.domain.SigningAlgorithm;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.security.spec.RSAPublicKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import sun.security.pkcs11.wrapper.CK_ATTRIBUTE;
import sun.security.pkcs11.wrapper.CK_MECHANISM;
import sun.security.pkcs11.wrapper.CK_RSA_PKCS_PSS_PARAMS;
import sun.security.pkcs11.wrapper.PKCS11;
import sun.security.pkcs11.wrapper.PKCS11Exception;

/**
 * One logged-in PKCS#11 token, driven through the JDK's own PKCS#11 wrapper: the layer SunPKCS11 itself sits on.
 *
 * <p><b>Why not the SunPKCS11 KeyStore.</b> Its {@code setKeyEntry} re-reads the labels of every object in the
 * token after each store, and it only learns about keys made by others on a full reload, so generating keys
 * cost O(objects in the token) each: 180 ms per ES256 key on an empty SoftHSM2 token, 600 ms at 300 keys. Here a
 * key is generated directly as a token object and found by its CKA_ID, so generation costs the same at any size.
 *
 * <p><b>Object layout</b> is exactly what the PKCS11 KeyStore writes and reads, so tokens made by either stay
 * usable by both (and by {@code keytool -list -storetype PKCS11}): a private key with CKA_ID = the handle in
 * UTF-8, and a self-signed "container" X.509 certificate with the same CKA_ID and CKA_LABEL = the handle, which
 * carries the public key. The certificate is signed by the new key inside the token, which doubles as a smoke
 * test of the key. Nothing validates it.
 *
 * <p><b>Sessions</b> are pooled: each operation leases one for its duration, so concurrent signatures never
 * share a session. PKCS#11 login state belongs to the token and the application, so logging in once covers
 * every session of this process.
 */
final class Pkcs11Token {

    /** The JVM option that opens the wrapper to Keyhold; the packaged jar's manifest carries it. */
    static final String EXPORT_OPTION = "--add-exports=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED";

    /** More idle sessions than this are closed on return; a burst does not keep its sessions forever. */
    private static final int MAX_IDLE_SESSIONS = 64;

    /*
     * The container certificate's validity. Fixed rather than read from a clock: nothing checks these dates, and
     * 9999-12-31T23:59:59Z is RFC 5280 §4.1.2.5's "no well-defined expiration date".
     */
    private static final Date CERT_NOT_BEFORE = new Date(0L);
    private static final Date CERT_NOT_AFTER = Date.from(Instant.parse("9999-12-31T23:59:59Z"));
    private static final SecureRandom SERIALS = new SecureRandom();

    private final PKCS11 p11;
    private final long slot;
    /** The {@link Pkcs11Module#generation()} this token's sessions and object handles belong to. */
    final long generation;

    private final ConcurrentLinkedDeque<Long> idle = new ConcurrentLinkedDeque<>();
    private final AtomicInteger idleCount = new AtomicInteger();

    private Pkcs11Token(PKCS11 p11, long slot, long generation) {
        this.p11 = p11;
        this.slot = slot;
        this.generation = generation;
    }

    /** True when the JVM lets this code use the wrapper (see {@link #EXPORT_OPTION}). */
    static boolean wrapperAccessible() {
        Optional<Module> cryptoki = ModuleLayer.boot().findModule("jdk.crypto.cryptoki");
        return cryptoki.isPresent()
                && cryptoki.get().isExported("sun.security.pkcs11.wrapper", Pkcs11Token.class.getModule());
    }

    /**
     * Picks the slot of an already loaded library ({@link Pkcs11Module}), logs in and checks that the token answers.
     * Call with the module's read lock held.
     */
    static Pkcs11Token open(Pkcs11Module module, Integer slot, Integer slotListIndex, char[] pin) throws Exception {
        long generation = module.generation();
        PKCS11 p11 = module.p11();
        long slotId;
        if (slot != null) {
            slotId = slot;
        } else {
            // SunPKCS11's reading of slotListIndex: an index into the list of all slots, token present or not.
            int index = slotListIndex == null ? 0 : slotListIndex;
            long[] slots = p11.C_GetSlotList(false);
            if (index >= slots.length) {
                throw new IllegalStateException("slot list index " + index + " is out of range: the library lists "
                        + slots.length + " slot(s) (CKR_SLOT_ID_INVALID)");
            }
            slotId = slots[index];
        }
        Pkcs11Token token = new Pkcs11Token(p11, slotId, generation);
        token.ensureLoggedIn(pin);
        token.probe();
        return token;
    }

    /**
     * Asks the token to describe itself (C_GetTokenInfo). A token that lost its storage still opens sessions and
     * answers object searches with "nothing" (SoftHSM2 whose token directory vanished); this call fails there
     * (CKR_GENERAL_ERROR), so it is asked before "no such object" or an empty listing is believed.
     */
    void probe() throws PKCS11Exception {
        p11.C_GetTokenInfo(slot);
    }

    // ------------------------------------------------------------------------------------------- sessions

    @FunctionalInterface
    interface SessionOp<T> {
        T apply(long session) throws Exception;
    }

    /**
     * Runs {@code op} on a session of its own. A session that saw a failure is closed rather than reused: it may
     * hold a half-finished operation.
     */
    <T> T withSession(SessionOp<T> op) throws Exception {
        Long pooled = idle.pollFirst();
        long session;
        if (pooled != null) {
            idleCount.decrementAndGet();
            session = pooled;
        } else {
            session = p11.C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, null, null);
        }
        T result;
        try {
            result = op.apply(session);
        } catch (Exception | Error e) {
            closeQuietly(session);
            throw e;
        }
        if (idleCount.incrementAndGet() <= MAX_IDLE_SESSIONS) {
            idle.offerFirst(session);
        } else {
            idleCount.decrementAndGet();
            closeQuietly(session);
        }
        return result;
    }

    /** Closes the pooled sessions; used when this connection is dropped. Leased sessions close on return. */
    void close() {
        for (Long s = idle.pollFirst(); s != null; s = idle.pollFirst()) {
            idleCount.decrementAndGet();
            closeQuietly(s);
        }
    }

    private void closeQuietly(long session) {
        try {
            p11.C_CloseSession(session);
        } catch (PKCS11Exception | RuntimeException ignored) {
            // the session or the whole token is gone already
        }
    }

    /** Logs in unless the token already is; when it is, this is one C_GetSessionInfo and the PIN is not used. */
    void ensureLoggedIn(char[] pin) throws Exception {
        withSession(s -> {
            long state = p11.C_GetSessionInfo(s).state;
            if (state != CKS_RO_USER_FUNCTIONS && state != CKS_RW_USER_FUNCTIONS) {
                try {
                    p11.C_Login(s, CKU_USER, pin);
                } catch (PKCS11Exception e) {
                    // Another session of this process logged in between the two calls.
                    if (e.getErrorCode() != Pkcs11Codes.CKR_USER_ALREADY_LOGGED_IN) {
                        throw e;
                    }
                }
            }
            return null;
        });
    }

    // ------------------------------------------------------------------------------------------- objects

    /** The token's private key object whose CKA_ID is {@code handle}, or 0 (CK_INVALID_HANDLE). */
    long findPrivateKey(long session, String handle) throws PKCS11Exception {
        long[] found = find(
                session,
                new CK_ATTRIBUTE[] {
                    new CK_ATTRIBUTE(CKA_TOKEN, true),
                    new CK_ATTRIBUTE(CKA_CLASS, CKO_PRIVATE_KEY),
                    new CK_ATTRIBUTE(CKA_ID, id(handle))
                },
                1);
        return found.length == 0 ? 0L : found[0];
    }

    /** The public key from the container certificate of {@code handle}, if there is one. */
    Optional<PublicKey> certificatePublicKey(long session, String handle) throws Exception {
        long[] found = find(session, certificateTemplate(handle), 1);
        if (found.length == 0) {
            return Optional.empty();
        }
        CK_ATTRIBUTE[] value = {new CK_ATTRIBUTE(CKA_VALUE)};
        p11.C_GetAttributeValue(session, found[0], value);
        var cert = CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(value[0].getByteArray()));
        PublicKey pub = cert.getPublicKey();
        return Optional.of(KeyFactory.getInstance(pub.getAlgorithm())
                .generatePublic(new java.security.spec.X509EncodedKeySpec(pub.getEncoded())));
    }

    /** Generated key: the private key object and its public key. */
    record Generated(long privateKey, PublicKey publicKey) {}

    /**
     * Generates the pair with the private half as a token object (invariant 2: sensitive, never extractable,
     * sign-only) and the public half as a session object that is read and then destroyed, and stores the
     * container certificate. If anything after the generation fails, the private key is destroyed again.
     */
    Generated generate(long session, String handle, SigningAlgorithm alg) throws Exception {
        byte[] id = id(handle);
        CK_MECHANISM mechanism;
        CK_ATTRIBUTE[] publicTemplate;
        if (alg.isEc()) {
            mechanism = new CK_MECHANISM(CKM_EC_KEY_PAIR_GEN);
            publicTemplate = new CK_ATTRIBUTE[] {
                new CK_ATTRIBUTE(CKA_TOKEN, false),
                new CK_ATTRIBUTE(CKA_VERIFY, true),
                new CK_ATTRIBUTE(CKA_EC_PARAMS, curveParameters(alg).getEncoded())
            };
        } else {
            RSAKeyGenParameterSpec rsa = (RSAKeyGenParameterSpec) alg.keyGenSpec();
            mechanism = new CK_MECHANISM(CKM_RSA_PKCS_KEY_PAIR_GEN);
            publicTemplate = new CK_ATTRIBUTE[] {
                new CK_ATTRIBUTE(CKA_TOKEN, false),
                new CK_ATTRIBUTE(CKA_VERIFY, true),
                new CK_ATTRIBUTE(CKA_MODULUS_BITS, (long) rsa.getKeysize()),
                new CK_ATTRIBUTE(CKA_PUBLIC_EXPONENT, rsa.getPublicExponent())
            };
        }
        CK_ATTRIBUTE[] privateTemplate = {
            new CK_ATTRIBUTE(CKA_TOKEN, true),
            new CK_ATTRIBUTE(CKA_PRIVATE, true),
            new CK_ATTRIBUTE(CKA_SENSITIVE, true),
            new CK_ATTRIBUTE(CKA_EXTRACTABLE, false),
            new CK_ATTRIBUTE(CKA_SIGN, true),
            new CK_ATTRIBUTE(CKA_DECRYPT, false),
            new CK_ATTRIBUTE(CKA_UNWRAP, false),
            new CK_ATTRIBUTE(CKA_DERIVE, false),
            new CK_ATTRIBUTE(CKA_ID, id)
        };
        long[] pair = p11.C_GenerateKeyPair(session, mechanism, publicTemplate, privateTemplate);
        long publicObject = pair[0];
        long privateObject = pair[1];
        try {
            PublicKey pub = readPublicKey(session, publicObject, alg);
            storeCertificate(session, handle, containerCertificate(session, handle, pub, privateObject, alg));
            return new Generated(privateObject, pub);
        } catch (Exception | Error e) {
            try {
                p11.C_DestroyObject(session, privateObject);
            } catch (PKCS11Exception | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        } finally {
            try {
                p11.C_DestroyObject(session, publicObject);
            } catch (PKCS11Exception | RuntimeException ignored) {
                // a session object; it goes with the session at the latest
            }
        }
    }

    /** Signs in the token: R‖S for ECDSA (what PKCS#11 returns), the plain signature for RSA. */
    byte[] sign(long session, long key, SigningAlgorithm alg, byte[] data) throws Exception {
        switch (alg) {
            case ES256, ES384 -> {
                // SoftHSM2 and many HSMs offer only CKM_ECDSA, which signs a digest made by the caller.
                MessageDigest md = MessageDigest.getInstance(alg == SigningAlgorithm.ES256 ? "SHA-256" : "SHA-384");
                p11.C_SignInit(session, new CK_MECHANISM(CKM_ECDSA), key);
                return p11.C_Sign(session, md.digest(data));
            }
            case RS256 -> {
                p11.C_SignInit(session, new CK_MECHANISM(CKM_SHA256_RSA_PKCS), key);
                return p11.C_Sign(session, data);
            }
            case PS256 -> {
                // RFC 7518 §3.5: SHA-256, MGF1 with SHA-256, a salt as long as the hash.
                CK_MECHANISM m = new CK_MECHANISM(CKM_SHA256_RSA_PKCS_PSS);
                m.setParameter(new CK_RSA_PKCS_PSS_PARAMS("SHA-256", "MGF1", "SHA-256", 32));
                p11.C_SignInit(session, m, key);
                return p11.C_Sign(session, data);
            }
            default -> throw new IllegalArgumentException("unsupported algorithm " + alg);
        }
    }

    /**
     * Destroys every token object with CKA_ID = {@code handle}, the private key first (it is what matters, and a
     * crash after it leaves only a public certificate, which {@link #handles} still lists for clean-up).
     *
     * @return how many objects were destroyed
     */
    int destroy(long session, String handle) throws PKCS11Exception {
        int n = 0;
        for (long o : find(
                session,
                new CK_ATTRIBUTE[] {
                    new CK_ATTRIBUTE(CKA_TOKEN, true),
                    new CK_ATTRIBUTE(CKA_CLASS, CKO_PRIVATE_KEY),
                    new CK_ATTRIBUTE(CKA_ID, id(handle))
                },
                Integer.MAX_VALUE)) {
            p11.C_DestroyObject(session, o);
            n++;
        }
        for (long o : find(
                session,
                new CK_ATTRIBUTE[] {new CK_ATTRIBUTE(CKA_TOKEN, true), new CK_ATTRIBUTE(CKA_ID, id(handle))},
                Integer.MAX_VALUE)) {
            p11.C_DestroyObject(session, o);
            n++;
        }
        return n;
    }

    /**
     * Destroys only the private key object(s) with CKA_ID = {@code handle}; the container certificate (and with it the
     * public key) stays.
     *
     * @return how many private objects were destroyed (0: there was none)
     */
    int destroyPrivate(long session, String handle) throws PKCS11Exception {
        int n = 0;
        for (long o : find(
                session,
                new CK_ATTRIBUTE[] {
                    new CK_ATTRIBUTE(CKA_TOKEN, true),
                    new CK_ATTRIBUTE(CKA_CLASS, CKO_PRIVATE_KEY),
                    new CK_ATTRIBUTE(CKA_ID, id(handle))
                },
                Integer.MAX_VALUE)) {
            p11.C_DestroyObject(session, o);
            n++;
        }
        return n;
    }

    /** Writes a private token data object labelled {@code label}, then removes older ones of that label. */
    void putData(long session, String label, byte[] value) throws PKCS11Exception {
        long created = p11.C_CreateObject(session, new CK_ATTRIBUTE[] {
            new CK_ATTRIBUTE(CKA_CLASS, CKO_DATA),
            new CK_ATTRIBUTE(CKA_TOKEN, true),
            new CK_ATTRIBUTE(CKA_PRIVATE, true),
            new CK_ATTRIBUTE(CKA_MODIFIABLE, true),
            new CK_ATTRIBUTE(CKA_LABEL, label.toCharArray()),
            new CK_ATTRIBUTE(CKA_APPLICATION, "keyhold".toCharArray()),
            new CK_ATTRIBUTE(CKA_VALUE, value)
        });
        for (long o : find(session, dataTemplate(label), Integer.MAX_VALUE)) {
            if (o != created) {
                p11.C_DestroyObject(session, o);
            }
        }
    }

    /** The value of the data object labelled {@code label} (the newest handle when a crash left two). */
    Optional<byte[]> getData(long session, String label) throws PKCS11Exception {
        long[] found = find(session, dataTemplate(label), Integer.MAX_VALUE);
        if (found.length == 0) {
            return Optional.empty();
        }
        long newest = java.util.Arrays.stream(found).max().getAsLong();
        CK_ATTRIBUTE[] value = {new CK_ATTRIBUTE(CKA_VALUE)};
        p11.C_GetAttributeValue(session, newest, value);
        return Optional.ofNullable(value[0].getByteArray());
    }

    private static CK_ATTRIBUTE[] dataTemplate(String label) {
        return new CK_ATTRIBUTE[] {
            new CK_ATTRIBUTE(CKA_TOKEN, true),
            new CK_ATTRIBUTE(CKA_CLASS, CKO_DATA),
            new CK_ATTRIBUTE(CKA_LABEL, label.toCharArray())
        };
    }

    /** The handles of all private keys and container certificates in the token, sorted. */
    List<String> handles(long session) throws PKCS11Exception {
        return handles(session, new long[] {CKO_PRIVATE_KEY, CKO_CERTIFICATE});
    }

    /** The handles that have a private key object in the token, sorted. */
    List<String> privateHandles(long session) throws PKCS11Exception {
        return handles(session, new long[] {CKO_PRIVATE_KEY});
    }

    private List<String> handles(long session, long[] classes) throws PKCS11Exception {
        TreeSet<String> out = new TreeSet<>();
        for (long cls : classes) {
            for (long o : find(
                    session,
                    new CK_ATTRIBUTE[] {new CK_ATTRIBUTE(CKA_TOKEN, true), new CK_ATTRIBUTE(CKA_CLASS, cls)},
                    Integer.MAX_VALUE)) {
                CK_ATTRIBUTE[] idAttr = {new CK_ATTRIBUTE(CKA_ID)};
                p11.C_GetAttributeValue(session, o, idAttr);
                byte[] value = idAttr[0].getByteArray();
                if (value != null && value.length > 0) {
                    out.add(new String(value, StandardCharsets.UTF_8));
                }
            }
        }
        return List.copyOf(out);
    }

    // ------------------------------------------------------------------------------------------- internals

    private long[] find(long session, CK_ATTRIBUTE[] template, int max) throws PKCS11Exception {
        p11.C_FindObjectsInit(session, template);
        try {
            List<Long> out = new ArrayList<>();
            while (out.size() < max) {
                long[] batch = p11.C_FindObjects(session, Math.min(256, max - out.size()));
                if (batch == null || batch.length == 0) {
                    break;
                }
                for (long h : batch) {
                    out.add(h);
                }
            }
            return out.stream().mapToLong(Long::longValue).toArray();
        } finally {
            p11.C_FindObjectsFinal(session);
        }
    }

    private static byte[] id(String handle) {
        return handle.getBytes(StandardCharsets.UTF_8);
    }

    private static CK_ATTRIBUTE[] certificateTemplate(String handle) {
        return new CK_ATTRIBUTE[] {
            new CK_ATTRIBUTE(CKA_TOKEN, true),
            new CK_ATTRIBUTE(CKA_CLASS, CKO_CERTIFICATE),
            new CK_ATTRIBUTE(CKA_ID, id(handle))
        };
    }

    private static AlgorithmParameters curveParameters(SigningAlgorithm alg) throws Exception {
        AlgorithmParameters params = AlgorithmParameters.getInstance("EC");
        params.init((ECGenParameterSpec) alg.keyGenSpec());
        return params;
    }

    private PublicKey readPublicKey(long session, long publicObject, SigningAlgorithm alg) throws Exception {
        if (alg.isEc()) {
            CK_ATTRIBUTE[] point = {new CK_ATTRIBUTE(CKA_EC_POINT)};
            p11.C_GetAttributeValue(session, publicObject, point);
            ECParameterSpec spec = curveParameters(alg).getParameterSpec(ECParameterSpec.class);
            int fieldBytes = (spec.getCurve().getField().getFieldSize() + 7) / 8;
            byte[] encoded = point[0].getByteArray();
            // PKCS#11 says CKA_EC_POINT is a DER OCTET STRING; some tokens give the bare point. Tell them apart
            // by length, since both start with 0x04.
            byte[] raw = encoded.length == 2 * fieldBytes + 1
                    ? encoded
                    : ASN1OctetString.getInstance(encoded).getOctets();
            if (raw.length != 2 * fieldBytes + 1 || raw[0] != 0x04) {
                throw new IllegalStateException("the token returned an EC point in an unexpected form");
            }
            BigInteger x = new BigInteger(1, Arrays.copyOfRange(raw, 1, 1 + fieldBytes));
            BigInteger y = new BigInteger(1, Arrays.copyOfRange(raw, 1 + fieldBytes, raw.length));
            return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(new ECPoint(x, y), spec));
        }
        CK_ATTRIBUTE[] rsa = {new CK_ATTRIBUTE(CKA_MODULUS), new CK_ATTRIBUTE(CKA_PUBLIC_EXPONENT)};
        p11.C_GetAttributeValue(session, publicObject, rsa);
        return KeyFactory.getInstance("RSA")
                .generatePublic(new RSAPublicKeySpec(rsa[0].getBigInteger(), rsa[1].getBigInteger()));
    }

    private X509CertificateHolder containerCertificate(
            long session, String handle, PublicKey pub, long privateObject, SigningAlgorithm alg) throws Exception {
        X500Name name =
                new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, handle).build();
        BigInteger serial = new BigInteger(63, SERIALS).add(BigInteger.ONE);
        // RSA keys (RS256 and PS256 alike) sign their certificate with PKCS#1 v1.5: the key allows both.
        SigningAlgorithm certAlg = alg.isEc() ? alg : SigningAlgorithm.RS256;
        AlgorithmIdentifier algId = new DefaultSignatureAlgorithmIdentifierFinder().find(certAlg.jcaSignatureName());
        ByteArrayOutputStream tbs = new ByteArrayOutputStream();
        ContentSigner signer = new ContentSigner() {
            @Override
            public AlgorithmIdentifier getAlgorithmIdentifier() {
                return algId;
            }

            @Override
            public OutputStream getOutputStream() {
                return tbs;
            }

            @Override
            public byte[] getSignature() {
                try {
                    byte[] sig = sign(session, privateObject, certAlg, tbs.toByteArray());
                    // X.509 carries ECDSA signatures DER-encoded, not as JWS R‖S.
                    return certAlg.isEc() ? EcdsaSignatures.joseToDer(sig) : sig;
                } catch (Exception e) {
                    throw new IllegalStateException("signing the container certificate failed", e);
                }
            }
        };
        return new JcaX509v3CertificateBuilder(name, serial, CERT_NOT_BEFORE, CERT_NOT_AFTER, name, pub).build(signer);
    }

    private void storeCertificate(long session, String handle, X509CertificateHolder cert) throws Exception {
        p11.C_CreateObject(session, new CK_ATTRIBUTE[] {
            new CK_ATTRIBUTE(CKA_CLASS, CKO_CERTIFICATE),
            new CK_ATTRIBUTE(CKA_CERTIFICATE_TYPE, CKC_X_509),
            new CK_ATTRIBUTE(CKA_TOKEN, true),
            new CK_ATTRIBUTE(CKA_PRIVATE, false),
            new CK_ATTRIBUTE(CKA_LABEL, id(handle)),
            new CK_ATTRIBUTE(CKA_ID, id(handle)),
            new CK_ATTRIBUTE(CKA_SUBJECT, cert.getSubject().getEncoded()),
            new CK_ATTRIBUTE(CKA_ISSUER, cert.getIssuer().getEncoded()),
            new CK_ATTRIBUTE(CKA_SERIAL_NUMBER, new ASN1Integer(cert.getSerialNumber()).getEncoded()),
            new CK_ATTRIBUTE(CKA_VALUE, cert.getEncoded())
        });
    }
}
