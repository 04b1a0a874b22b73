package dev.keyhold.validator;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Validates tokens of the Keyhold issuers a relying party trusts, with the same checks, in the same order, as
 * Keyhold's reference validator ({@code POST /v1/verify}), and follows Keyhold's event feed so that a revoked key is
 * refused the moment the revocation arrives, not when a JWKS cache expires.
 *
 * <pre>{@code
 * KeyholdValidator v = KeyholdValidator.builder(URI.create("https://keyhold.example"))
 *         .trust("consumer", Set.of("api://consumer"))
 *         .build();
 * Verdict r = v.validate(token);
 * }</pre>
 *
 * <p>Checks, first failure wins: {@code malformed}; {@code issuer_not_allowed} (the {@code iss} is not a trusted
 * issuer's); {@code stale} (the feed has been lost for longer than {@code maxStaleness} and the issuer could not be
 * reloaded since); {@code issuer_not_allowed} (the issuer is suspended); {@code kid_not_bound_to_issuer};
 * {@code key_not_usable}; {@code invalid_signature} (the algorithm is the key's, never the token's);
 * {@code audience_not_allowed} (every {@code aud} must be one the relying party trusts for that issuer);
 * {@code expired} ({@code exp} required and in the future, {@code nbf} not in the future, no leeway).
 *
 * <p>Thread-safe. {@link #validate} never waits for the network except once per {@code unknownKidCooldown} per
 * issuer, when a token names a kid the issuer has never had (then it reloads the issuer before answering).
 */
public final class KeyholdValidator implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("dev.keyhold.validator");
    private static final System.Logger VERDICTS = System.getLogger("dev.keyhold.validator.verdicts");
    private static final Base64.Decoder B64 = Base64.getUrlDecoder();
    private static final java.util.regex.Pattern BASE64URL = java.util.regex.Pattern.compile("[A-Za-z0-9_-]+");
    /** Counted under this issuer name when the token's iss is no trusted issuer's (bounded cardinality). */
    public static final String UNTRUSTED = "untrusted";

    private final Map<String, Holder> holders;
    private final Map<String, Holder> byIss = new ConcurrentHashMap<>();
    private final IssuerSource source;
    private final TrustBundleSource bundles;
    private final Clock clock;
    private final Duration maxStaleness;
    private final Duration unknownKidCooldown;
    private final List<VerdictListener> listeners;
    private final TokenReporter reporter;
    private final ScheduledExecutorService exec;
    private final ExecutorService httpExecutor;
    private final ExecutorService refetchers;
    private final EventFeed feed;
    private final Map<String, Map<String, LongAdder>> counts = new ConcurrentHashMap<>();

    /** Starts a builder for the Keyhold at {@code keyhold} (its base URL, e.g. {@code https://keyhold.example}). */
    public static Builder builder(URI keyhold) {
        return new Builder(keyhold);
    }

    private KeyholdValidator(Builder b) {
        this.clock = b.clock;
        this.maxStaleness = b.maxStaleness;
        this.unknownKidCooldown = b.unknownKidCooldown;
        this.listeners = List.copyOf(b.listeners);
        this.reporter = b.reporter;
        Map<String, Holder> h = new LinkedHashMap<>();
        b.trusted.forEach((id, aud) -> h.put(id, new Holder(id, aud)));
        this.holders = Map.copyOf(h);
        this.exec = Executors.newSingleThreadScheduledExecutor(daemon("keyhold-validator-feed"));
        this.refetchers = Executors.newFixedThreadPool(2, daemon("keyhold-validator-reload"));
        HttpClient http = b.http;
        if (http == null) {
            httpExecutor = Executors.newCachedThreadPool(daemon("keyhold-validator-http"));
            http = HttpClient.newBuilder()
                    .connectTimeout(b.requestTimeout)
                    .executor(httpExecutor)
                    .build();
        } else {
            httpExecutor = null;
        }
        URI base = b.base.getPath().endsWith("/") ? b.base : URI.create(b.base + "/");
        if (b.trustAnchor != null) {
            this.bundles = new TrustBundleSource(
                    base, http, b.requestTimeout, clock, new TrustBundleVerifier(b.trustAnchor, clock));
            this.source = bundles;
        } else {
            this.bundles = null;
            this.source = b.source != null ? b.source : new HttpIssuerSource(base, http, b.requestTimeout);
        }
        this.feed = new EventFeed(
                base,
                http,
                exec,
                clock,
                new FeedHandler(),
                b.feedIdleTimeout,
                b.backoffInitial,
                b.backoffMax,
                b.requestTimeout);
    }

    private void start() {
        feed.start();
        // Issuers that could not be loaded, or (while the feed is lost) that should be polled, are retried here.
        exec.scheduleWithFixedDelay(this::maintain, 1, 1, TimeUnit.SECONDS);
    }

    // ------------------------------------------------------------------------------------------------ validation

    /** Validates one compact JWS; never throws for any input. */
    public Verdict validate(String token) {
        Instant now = clock.instant();
        Outcome o = evaluate(token, now);
        Verdict v = o.verdict;
        String issuerTag = o.holder != null ? o.holder.id : UNTRUSTED;
        counts.computeIfAbsent(issuerTag, k -> new ConcurrentHashMap<>())
                .computeIfAbsent(v.valid() ? "valid" : v.reason(), k -> new LongAdder())
                .increment();
        for (VerdictListener l : listeners) {
            try {
                l.onVerdict(v);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "verdict listener failed: " + e);
            }
        }
        if (reporter != null) {
            try {
                reporter.report(token, v);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "token reporter failed: " + e);
            }
        }
        return v;
    }

    private record Outcome(Verdict verdict, Holder holder) {}

    private Outcome evaluate(String token, Instant now) {
        if (token == null) {
            return new Outcome(Verdict.invalid(Verdict.MALFORMED, null, null), null);
        }
        String[] parts = token.split("\\.", -1);
        Map<?, ?> header;
        Map<?, ?> payload;
        byte[] signature;
        try {
            if (parts.length != 3) {
                throw new IllegalArgumentException("not three parts");
            }
            // RFC 7515: unpadded base64url, every part non-empty (as /v1/verify checks)
            for (String part : parts) {
                if (!BASE64URL.matcher(part).matches()) {
                    throw new IllegalArgumentException("not unpadded base64url");
                }
            }
            header = object(parts[0]);
            payload = object(parts[1]);
            signature = B64.decode(parts[2]);
        } catch (RuntimeException e) {
            return new Outcome(Verdict.invalid(Verdict.MALFORMED, null, null), null);
        }
        String iss = text(payload.get("iss"));
        String kid = text(header.get("kid"));
        if (header.containsKey("crit")) {
            return new Outcome(Verdict.invalid(Verdict.MALFORMED, iss, kid), null);
        }
        Holder h = iss == null ? null : byIss.get(iss);
        if (h == null) {
            // An issuer never loaded has no known iss yet: a token may be one of its, so say so rather than guess.
            boolean unloaded = holders.values().stream().anyMatch(x -> x.keys == null);
            return new Outcome(Verdict.invalid(unloaded ? Verdict.STALE : Verdict.ISSUER_NOT_ALLOWED, iss, kid), null);
        }
        if (stale(h, now) || expired(h.keys, now)) {
            return new Outcome(Verdict.invalid(Verdict.STALE, iss, kid), h);
        }
        if (h.suspended) {
            return new Outcome(Verdict.invalid(Verdict.ISSUER_NOT_ALLOWED, iss, kid), h);
        }
        Keys keys = h.keys;
        if (kid == null || !bound(h, keys, kid)) {
            if (kid == null || !refetchUnknownKid(h, now) || !bound(h, h.keys, kid)) {
                return new Outcome(Verdict.invalid(Verdict.KID_NOT_BOUND_TO_ISSUER, iss, kid), h);
            }
            keys = h.keys;
        }
        VerifyKey key = keys.verifyKeys.get(kid);
        if (key == null || h.revoked.contains(kid) || (key.until != null && !now.isBefore(key.until))) {
            return new Outcome(Verdict.invalid(Verdict.KEY_NOT_USABLE, iss, kid), h);
        }
        if (!signatureValid(key, text(header.get("alg")), parts[0] + "." + parts[1], signature)) {
            return new Outcome(Verdict.invalid(Verdict.INVALID_SIGNATURE, iss, kid), h);
        }
        if (!audienceAllowed(payload.get("aud"), h.audiences)) {
            return new Outcome(Verdict.invalid(Verdict.AUDIENCE_NOT_ALLOWED, iss, kid), h);
        }
        long at = now.getEpochSecond();
        Object exp = payload.get("exp");
        Object nbf = payload.get("nbf");
        if (!(exp instanceof BigInteger e)
                || at >= e.longValue()
                || (nbf != null && (!(nbf instanceof BigInteger n) || at < n.longValue()))) {
            return new Outcome(Verdict.invalid(Verdict.EXPIRED, iss, kid), h);
        }
        return new Outcome(Verdict.valid(iss, kid), h);
    }

    private static boolean bound(Holder h, Keys keys, String kid) {
        return keys.snapshot.boundKids().contains(kid) || keys.verifyKeys.containsKey(kid) || h.eventKids.contains(kid);
    }

    private boolean stale(Holder h, Instant now) {
        Instant lost = feed.lostSince();
        if (lost == null) {
            return false;
        }
        Duration limit = staleness(h);
        Instant synced = h.lastSync;
        return now.isAfter(lost.plus(limit)) && (synced == null || now.isAfter(synced.plus(limit)));
    }

    /** A snapshot past its validUntil (a trust bundle past exp, none newer accepted): a freeze, so fail closed. */
    private static boolean expired(Keys keys, Instant now) {
        Instant until = keys == null ? null : keys.snapshot.validUntil();
        return until != null && !now.isBefore(until);
    }

    private Duration staleness(Holder h) {
        if (maxStaleness != null) {
            return maxStaleness;
        }
        Keys k = h.keys;
        return k != null && k.snapshot.maxAge() != null ? k.snapshot.maxAge() : Duration.ofMinutes(5);
    }

    private boolean signatureValid(VerifyKey key, String headerAlg, String signingInput, byte[] signature) {
        // The key decides the algorithm: "none", HS256 keyed with the public key and any swap stop here.
        if (!key.alg.getName().equals(headerAlg)) {
            return false;
        }
        if (key.ecSignatureLength > 0 && signature.length != key.ecSignatureLength) {
            return false;
        }
        try {
            Signature s = Signature.getInstance(key.jca);
            if (key.pss) {
                s.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
            }
            s.initVerify(key.publicKey);
            s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
            return s.verify(signature);
        } catch (Exception e) {
            return false;
        }
    }

    private static boolean audienceAllowed(Object aud, Set<String> allowed) {
        List<String> values = new ArrayList<>();
        if (aud instanceof String s) {
            values.add(s);
        } else if (aud instanceof List<?> l) {
            for (Object o : l) {
                if (!(o instanceof String s)) {
                    return false;
                }
                values.add(s);
            }
        }
        return !values.isEmpty() && allowed.containsAll(values);
    }

    private static Map<?, ?> object(String part) {
        if (!(StrictJson.parse(B64.decode(part)) instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("not a JSON object");
        }
        return m;
    }

    private static String text(Object o) {
        return o instanceof String s ? s : null;
    }

    /** Reloads the issuer for an unknown kid, at most once per cooldown per issuer; true if it reloaded. */
    private boolean refetchUnknownKid(Holder h, Instant now) {
        synchronized (h) {
            if (h.lastUnknownKidReload != null && now.isBefore(h.lastUnknownKidReload.plus(unknownKidCooldown))) {
                return false;
            }
            h.lastUnknownKidReload = now;
        }
        return reload(h);
    }

    // ------------------------------------------------------------------------------------------------ Nimbus

    /**
     * A live key source bound to one trusted issuer, for Nimbus's {@code JWTProcessor} or Spring Security's
     * {@code NimbusJwtDecoder.withJwkSource(…)}: it offers only that issuer's usable keys (never another issuer's, a
     * revoked one, or any while the issuer is suspended or stale), and an unknown kid reloads the issuer at most once
     * per cooldown. It does not check {@code iss}, audiences or times: configure those in the processor.
     */
    public JWKSource<SecurityContext> jwkSource(String issuerId) {
        Holder h = holders.get(issuerId);
        if (h == null) {
            throw new IllegalArgumentException("issuer " + issuerId + " is not trusted by this validator");
        }
        return (selector, context) -> {
            Instant now = clock.instant();
            List<JWK> usable = usableKeys(h, now);
            Set<String> wanted = selector.getMatcher().getKeyIDs();
            if (wanted != null
                    && !wanted.isEmpty()
                    && h.keys != null
                    && !h.suspended
                    && !stale(h, now)
                    && wanted.stream().noneMatch(k -> bound(h, h.keys, k))
                    && refetchUnknownKid(h, now)) {
                usable = usableKeys(h, now);
            }
            return selector.select(new JWKSet(usable));
        };
    }

    private List<JWK> usableKeys(Holder h, Instant now) {
        Keys keys = h.keys;
        if (keys == null || h.suspended || stale(h, now) || expired(keys, now)) {
            return List.of();
        }
        List<JWK> out = new ArrayList<>();
        for (VerifyKey k : keys.verifyKeys.values()) {
            if (!h.revoked.contains(k.kid) && (k.until == null || now.isBefore(k.until))) {
                out.add(k.jwk);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ state

    /** Rejections so far by trusted issuer id (or {@value #UNTRUSTED}) and reason; "valid" counts acceptances. */
    public Map<String, Map<String, Long>> verdictCounts() {
        Map<String, Map<String, Long>> out = new HashMap<>();
        counts.forEach((issuer, m) -> {
            Map<String, Long> r = new HashMap<>();
            m.forEach((reason, n) -> r.put(reason, n.sum()));
            out.put(issuer, Map.copyOf(r));
        });
        return Map.copyOf(out);
    }

    /**
     * The trust bundle held for a trusted issuer and, if the newest one served was refused, why. Only for a validator
     * built with {@link Builder#trustAnchor}.
     *
     * @throws IllegalStateException when the validator reads bare JWKS documents (no trust anchor given)
     */
    public TrustBundleStatus trustBundleStatus(String issuerId) {
        if (!holders.containsKey(issuerId)) {
            throw new IllegalArgumentException("issuer " + issuerId + " is not trusted by this validator");
        }
        if (bundles == null) {
            throw new IllegalStateException("no trust anchor was given: this validator reads the bare JWKS");
        }
        return bundles.status(issuerId);
    }

    /**
     * Loads the issuer again now, as a feed event would; true if it loaded (a trust bundle refused, or Keyhold
     * unreachable, is false: see {@link #trustBundleStatus}). Blocking.
     */
    public boolean refresh(String issuerId) {
        Holder h = holders.get(issuerId);
        if (h == null) {
            throw new IllegalArgumentException("issuer " + issuerId + " is not trusted by this validator");
        }
        return reload(h);
    }

    /** The event feed as this validator sees it. */
    public FeedStatus feedStatus() {
        return new FeedStatus(feed.connected(), feed.lastEventId(), feed.lostSince());
    }

    /**
     * @param connected   true while the stream is open and caught up
     * @param lastEventId the id of the last event handled (-1 before any)
     * @param lostSince   when the feed was lost (null while connected)
     */
    public record FeedStatus(boolean connected, long lastEventId, Instant lostSince) {}

    @Override
    public void close() {
        feed.close();
        exec.shutdownNow();
        refetchers.shutdownNow();
        if (httpExecutor != null) {
            httpExecutor.shutdownNow();
        }
    }

    // ------------------------------------------------------------------------------------------------ loading

    private static final class VerifyKey {
        final String kid;
        final JWK jwk;
        final Instant until;
        final JWSAlgorithm alg;
        final String jca;
        final boolean pss;
        final int ecSignatureLength;
        final PublicKey publicKey;

        VerifyKey(String kid, IssuerSnapshot.TrustedKey k) throws Exception {
            this.kid = kid;
            this.jwk = k.jwk();
            this.until = k.usableUntil();
            this.alg = JWSAlgorithm.parse(k.jwk().getAlgorithm().getName());
            String name = alg.getName();
            switch (name) {
                case "ES256" -> {
                    jca = "SHA256withECDSAinP1363Format";
                    ecSignatureLength = 64;
                }
                case "ES384" -> {
                    jca = "SHA384withECDSAinP1363Format";
                    ecSignatureLength = 96;
                }
                case "RS256" -> {
                    jca = "SHA256withRSA";
                    ecSignatureLength = 0;
                }
                case "PS256" -> {
                    jca = "RSASSA-PSS";
                    ecSignatureLength = 0;
                }
                default -> throw new IllegalArgumentException("unsupported algorithm " + name);
            }
            this.pss = name.equals("PS256");
            boolean ec = name.startsWith("ES");
            if (ec != (k.jwk() instanceof ECKey) || !ec && !(k.jwk() instanceof RSAKey)) {
                throw new IllegalArgumentException("key type does not fit " + name);
            }
            this.publicKey = ec ? ((ECKey) k.jwk()).toECPublicKey() : ((RSAKey) k.jwk()).toRSAPublicKey();
        }
    }

    /** An issuer snapshot with its keys ready to verify. */
    private record Keys(IssuerSnapshot snapshot, Map<String, VerifyKey> verifyKeys) {}

    private final class Holder {
        final String id;
        final Set<String> audiences;
        volatile Keys keys;
        volatile boolean suspended;
        volatile Instant lastSync;
        final Set<String> revoked = ConcurrentHashMap.newKeySet();
        final Set<String> eventKids = ConcurrentHashMap.newKeySet();
        /** Bumped by every status event, so a reload that raced one does not undo it. */
        final AtomicLong statusEvents = new AtomicLong();

        final AtomicBoolean reloadQueued = new AtomicBoolean();
        final Object reloadLock = new Object();
        Instant lastUnknownKidReload;
        volatile long lastAttemptNanos;
        volatile boolean dirty;

        Holder(String id, Set<String> audiences) {
            this.id = id;
            this.audiences = Set.copyOf(audiences);
        }
    }

    /** Loads the issuer now; true on success. Revocations and status events seen meanwhile are kept. */
    private boolean reload(Holder h) {
        synchronized (h.reloadLock) {
            h.lastAttemptNanos = System.nanoTime();
            try {
                while (true) {
                    long events = h.statusEvents.get();
                    Keys before = h.keys;
                    IssuerSnapshot s = source.load(h.id, before == null ? null : before.snapshot);
                    if (!s.issuerId().equals(h.id)) {
                        throw new java.io.IOException("source answered for issuer " + s.issuerId());
                    }
                    Keys next = before != null && before.snapshot == s ? before : prepare(s);
                    synchronized (h) {
                        if (events != h.statusEvents.get()) {
                            continue; // a suspend or resume arrived while loading: load again
                        }
                        h.keys = next;
                        h.suspended = s.suspended();
                        h.lastSync = clock.instant();
                    }
                    byIss.put(s.issuerUri(), h);
                    return true;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "cannot load issuer " + h.id + ": " + e.getMessage());
                return false;
            }
        }
    }

    private static Keys prepare(IssuerSnapshot s) {
        Map<String, VerifyKey> m = new HashMap<>();
        s.keys().forEach((kid, k) -> {
            try {
                m.put(kid, new VerifyKey(kid, k));
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "key " + kid + " of issuer " + s.issuerId() + " skipped: " + e);
            }
        });
        return new Keys(s, Map.copyOf(m));
    }

    private void reloadSoon(Holder h) {
        if (h.reloadQueued.compareAndSet(false, true)) {
            refetchers.execute(() -> {
                h.reloadQueued.set(false);
                if (reload(h)) {
                    h.dirty = false;
                }
            });
        }
    }

    private void maintain() {
        boolean lost = feed.lostSince() != null;
        for (Holder h : holders.values()) {
            long since = System.nanoTime() - h.lastAttemptNanos;
            if ((h.keys == null || h.dirty) && since > Duration.ofSeconds(2).toNanos()) {
                reloadSoon(h);
            } else if (lost && since > staleness(h).dividedBy(4).toNanos()) {
                reloadSoon(h);
            }
        }
    }

    private final class FeedHandler implements EventFeed.Handler {
        @Override
        public void onEvent(EventFeed.Event e) {
            Holder h = e.issuerId() == null ? null : holders.get(e.issuerId());
            if (h == null) {
                return;
            }
            if (e.subject() != null && e.type().startsWith("keyhold.key.")) {
                h.eventKids.add(e.subject());
            }
            switch (e.type()) {
                case "keyhold.key.revoked" -> {
                    if (e.subject() != null) {
                        h.revoked.add(e.subject()); // at once, and for good: revocation is irreversible
                    }
                }
                case "keyhold.issuer.suspended", "keyhold.issuer.resumed" -> {
                    synchronized (h) {
                        h.suspended = e.type().endsWith("suspended");
                        h.statusEvents.incrementAndGet();
                    }
                }
                default -> {
                    if (e.type().startsWith("keyhold.key.")
                            || e.type().equals("keyhold.issuer.policy-changed")
                            || e.type().equals("keyhold.trust.bundle-published")) {
                        // In feed order, before the event counts as handled: a reader of feedStatus() knows that
                        // every event up to lastEventId is in effect. A failed reload is retried by maintain().
                        h.dirty = !reload(h);
                    }
                }
            }
        }

        @Override
        public void reloadAll() {
            for (Holder h : holders.values()) {
                reload(h);
            }
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicLong n = new AtomicLong();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    // ------------------------------------------------------------------------------------------------ builder

    /** Configures a validator; {@link #build()} loads each trusted issuer and starts following the feed. */
    public static final class Builder {
        private final URI base;
        private final Map<String, Set<String>> trusted = new LinkedHashMap<>();
        private Clock clock = Clock.systemUTC();
        private Duration maxStaleness;
        private Duration unknownKidCooldown = Duration.ofSeconds(30);
        private Duration feedIdleTimeout = Duration.ofSeconds(60);
        private Duration backoffInitial = Duration.ofMillis(500);
        private Duration backoffMax = Duration.ofSeconds(30);
        private Duration requestTimeout = Duration.ofSeconds(10);
        private HttpClient http;
        private IssuerSource source;
        private JWKSet trustAnchor;
        private final List<VerdictListener> listeners = new ArrayList<>();
        private TokenReporter reporter;

        private Builder(URI base) {
            if (base == null || base.getScheme() == null || base.getHost() == null) {
                throw new IllegalArgumentException(
                        "the Keyhold base URL must be absolute, e.g. https://keyhold.example");
            }
            this.base = base;
        }

        /** Trusts Keyhold issuer {@code issuerId} for tokens whose every {@code aud} is one of {@code audiences}. */
        public Builder trust(String issuerId, Collection<String> audiences) {
            if (issuerId == null || issuerId.isBlank() || audiences == null || audiences.isEmpty()) {
                throw new IllegalArgumentException("an issuer id and at least one audience are required");
            }
            trusted.put(issuerId, Set.copyOf(audiences));
            return this;
        }

        /**
         * How long the validator keeps accepting tokens on what it knows once the feed is lost and the issuer cannot
         * be reloaded; past it every token of that issuer is {@code stale}. Default: the JWKS {@code max-age}.
         */
        public Builder maxStaleness(Duration d) {
            this.maxStaleness = positive(d);
            return this;
        }

        /** An unknown kid reloads its issuer at most once per this (default 30 s). */
        public Builder unknownKidCooldown(Duration d) {
            this.unknownKidCooldown = positive(d);
            return this;
        }

        /** A feed silent for this long (no event, no heartbeat) is reconnected (default 60 s). */
        public Builder feedIdleTimeout(Duration d) {
            this.feedIdleTimeout = positive(d);
            return this;
        }

        /** Waits between reconnection attempts: {@code initial}, doubled up to {@code max} (default 0.5 s, 30 s). */
        public Builder reconnectBackoff(Duration initial, Duration max) {
            this.backoffInitial = positive(initial);
            this.backoffMax = positive(max);
            return this;
        }

        /** Timeout of each HTTP request and connection (default 10 s). */
        public Builder requestTimeout(Duration d) {
            this.requestTimeout = positive(d);
            return this;
        }

        /** The clock that token times and staleness are judged by (default: the system clock, UTC). */
        public Builder clock(Clock c) {
            this.clock = java.util.Objects.requireNonNull(c);
            return this;
        }

        /** The HTTP client to use (TLS settings, proxy); default: a new one. */
        public Builder httpClient(HttpClient c) {
            this.http = c;
            return this;
        }

        /** Where issuers are loaded from; default: Keyhold's public JWKS and key status documents. */
        public Builder source(IssuerSource s) {
            this.source = s;
            return this;
        }

        /**
         * Opt-in: verify each issuer's signed trust bundle ({@code /issuers/{id}/trust-bundle}) against this pinned
         * trust anchor (the keys {@code GET /v1/trust-anchor} served when you pinned it, kept in your configuration)
         * instead of reading the bare JWKS. A bundle is refused when its signature is not a pinned key's, its
         * sequence is lower than one accepted, it has expired, or it is another issuer's; {@link #trustBundleStatus}
         * says why, and the last accepted bundle stays in force until its exp (then the issuer's tokens are
         * {@code stale}). A trust key takeover's dual-signed bundle moves the pin to the new trust key.
         */
        public Builder trustAnchor(JWKSet anchor) {
            if (anchor == null || anchor.getKeys().isEmpty()) {
                throw new IllegalArgumentException("a trust anchor with at least one key is required");
            }
            new TrustBundleVerifier(anchor, clock); // checks the keys now: public EC keys with a kid
            this.trustAnchor = anchor;
            return this;
        }

        /**
         * Logs every verdict on logger {@code dev.keyhold.validator.verdicts} (System.Logger, INFO): reason, iss and
         * kid, shortened and made printable. Never the token.
         */
        public Builder logVerdicts(boolean on) {
            if (on) {
                listeners.add(v -> VERDICTS.log(
                        System.Logger.Level.INFO,
                        "verdict " + (v.valid() ? "valid" : v.reason()) + " iss=" + printable(v.iss()) + " kid="
                                + printable(v.kid())));
            }
            return this;
        }

        public Builder listener(VerdictListener l) {
            listeners.add(java.util.Objects.requireNonNull(l));
            return this;
        }

        /** Opt-in: see {@link TokenReporter}. */
        public Builder reporter(TokenReporter r) {
            this.reporter = r;
            return this;
        }

        /** Loads every trusted issuer and opens the event feed before returning. */
        public KeyholdValidator build() {
            if (trusted.isEmpty()) {
                throw new IllegalStateException("trust at least one issuer");
            }
            if (trustAnchor != null && source != null) {
                throw new IllegalStateException("a trust anchor and a custom source exclude each other");
            }
            KeyholdValidator v = new KeyholdValidator(this);
            v.start();
            return v;
        }

        private static Duration positive(Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("a positive duration is required");
            }
            return d;
        }
    }

    static String printable(String s) {
        if (s == null) {
            return "-";
        }
        String t = s.length() > 100 ? s.substring(0, 100) + "…" : s;
        return t.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
