package dev.keyhold.signing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.audit.AuditHash;
import dev.keyhold.domain.Deadlines;
import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.domain.Key;
import dev.keyhold.error.ProblemException;
import dev.keyhold.error.ValidationException;
import dev.keyhold.error.ValidationException.FieldError;
import dev.keyhold.evidence.IssuanceLedger;
import dev.keyhold.evidence.Ledger;
import dev.keyhold.hsm.HsmException;
import dev.keyhold.hsm.HsmObjectMissingException;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.hsm.KeyObjectMissing;
import dev.keyhold.issuer.Issuer;
import dev.keyhold.issuer.IssuerGate;
import dev.keyhold.ratelimit.RateLimitedException;
import dev.keyhold.ratelimit.TokenBuckets;
import dev.keyhold.security.IssuerAccess;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.security.identity.SecurityIdentity;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Signs tokens for an issuer with its ACTIVE key inside the HSM (SPEC invariant 1: a key signs only tokens whose
 * {@code iss} is its own issuer's). The hot path reads only the in-memory {@link SigningCache} and writes
 * no audit record per token (tokens are counted per issuer instead); its one database write is the issuance
 * ledger's, batched with other tokens ({@link Ledger}).
 * Deadlines and the issuer's status are checked against the clock on every call, so a dead scheduler or a
 * stale snapshot cannot stretch a key past {@code notAfter}.
 *
 * <p>Claim rules: Keyhold sets {@code iss}, {@code iat} and {@code exp}. A client {@code iss} must equal the
 * issuer's URI; {@code iat} is refused; {@code aud} (string or array) is required and every value must be one of
 * the issuer's audiences. The lifetime is {@code tokenTtl} unless {@code ttl} (ISO duration) or a client
 * {@code exp} asks for less; asking for more is refused (422), never silently shortened. {@code nbf} and
 * {@code jti} pass through when well-formed; a token without a {@code jti} gets a random one. Every token is
 * recorded in the issuance ledger before it is returned ({@link Ledger}).
 */
@ApplicationScoped
public class SigningService {

    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    @Inject
    SigningCache cache;

    @Inject
    HsmPort hsm;

    @Inject
    Clock clock;

    @Inject
    IssuerAccess access;

    @Inject
    ObjectMapper mapper;

    @Inject
    MeterRegistry registry;

    @Inject
    Ledger ledger;

    @Inject
    jakarta.enterprise.event.Event<KeyObjectMissing> objectMissing;

    @Inject
    SigningExecutor executor;

    private final TokenBuckets perIssuer;
    private final TokenBuckets perPrincipal;
    private final ConcurrentHashMap<String, Counter> signed = new ConcurrentHashMap<>();
    private volatile Timer signedLatency;
    private volatile Timer refusedLatency;

    @Inject
    public SigningService(SigningConfig config) {
        this.perIssuer = new TokenBuckets(config.rateLimit().perIssuer());
        this.perPrincipal = new TokenBuckets(config.rateLimit().perPrincipal());
    }

    /**
     * Signs without blocking the calling thread (the request's event loop): the checks and the claims run here, a
     * snapshot the cache does not hold is loaded on a worker, the HSM signature runs on {@link SigningExecutor}
     * (503 {@code signing-busy} with {@code Retry-After} when its queue is full), and the result completes when the
     * issuance ledger holds the token (on the ledger's writer thread). Refusals complete it exceptionally with the
     * same problems as before.
     */
    public CompletableFuture<SignResponse> sign(String issuerId, SignRequest request, SecurityIdentity who) {
        long start = System.nanoTime();
        CompletableFuture<SignResponse> result = new CompletableFuture<>();
        result.whenComplete((r, e) -> latency(e == null).record(System.nanoTime() - start, TimeUnit.NANOSECONDS));
        try {
            Instant now = clock.instant();
            long nanos = takePrincipalToken(who, now);
            SigningSnapshot snap = cache.cached(issuerId);
            Context ctx = Vertx.currentContext();
            if (snap != null || ctx == null) {
                submit(snap != null ? snap : cache.get(issuerId), request, who, now, nanos, result);
            } else {
                // a cache miss reads the database (and checks the approval evidence): not on the event loop
                ctx.executeBlocking(() -> cache.get(issuerId), false).onComplete(loaded -> {
                    if (loaded.failed()) {
                        result.completeExceptionally(loaded.cause());
                        return;
                    }
                    try {
                        submit(loaded.result(), request, who, now, nanos, result);
                    } catch (RuntimeException e) {
                        result.completeExceptionally(e);
                    }
                });
            }
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
        }
        return result;
    }

    /**
     * {@code keyhold_signing_latency_seconds{outcome}}: a Prometheus histogram of the service's time per request
     * (checks, claims, the wait for an HSM thread, the HSM signature, the wait for the ledger), {@code outcome} =
     * {@code signed} or {@code refused}. HTTP parsing and
     * writing are not in it; the HSM's own share is {@code keyhold_hsm_latency_seconds{operation="sign"}}.
     */
    private Timer latency(boolean signedOk) {
        Timer t = signedOk ? signedLatency : refusedLatency;
        if (t == null) {
            t = Timer.builder("keyhold.signing.latency")
                    .description("time to answer a sign request")
                    .tag("outcome", signedOk ? "signed" : "refused")
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofNanos(20_000))
                    .maximumExpectedValue(Duration.ofSeconds(10))
                    .register(registry);
            if (signedOk) {
                signedLatency = t;
            } else {
                refusedLatency = t;
            }
        }
        return t;
    }

    private long takePrincipalToken(SecurityIdentity who, Instant now) {
        String principal = who.getPrincipal().getName();
        long nanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        long wait = perPrincipal.tryTake(principal, nanos);
        if (wait > 0) {
            throw new RateLimitedException("signing rate limit of principal '" + principal + "' exceeded", wait);
        }
        return nanos;
    }

    /** What the HSM thread needs: the checks have passed and the signing input is ready. */
    private record Prepared(Issuer issuer, Key key, Map<String, Object> claims, String signingInput) {}

    /** The checks and claims (on the caller's thread), then the signature on an HSM thread. */
    private void submit(
            SigningSnapshot snap,
            SignRequest request,
            SecurityIdentity who,
            Instant now,
            long nanos,
            CompletableFuture<SignResponse> result) {
        Prepared p = prepare(snap, request, who, now, nanos);
        if (!executor.offer(() -> signAndRecord(p, result))) {
            refused(p.issuer().id(), "busy");
            throw ProblemException.unavailable(
                    "signing-busy",
                    "all " + executor.threads() + " HSM signing threads" + " are busy and " + executor.queueCapacity()
                            + " signatures are waiting; retry later");
        }
    }

    private Prepared prepare(SigningSnapshot snap, SignRequest request, SecurityIdentity who, Instant now, long nanos) {
        Issuer issuer = snap.issuer();
        access.requireSigner(issuer, who);
        long wait = perIssuer.tryTake(issuer.id(), nanos);
        if (wait > 0) {
            refused(issuer.id(), "rate-limited");
            throw new RateLimitedException("signing rate limit of issuer '" + issuer.id() + "' exceeded", wait);
        }
        if (issuer.status() != IssuerStatus.ACTIVE) {
            refused(issuer.id(), "issuer-suspended");
            IssuerGate.requireActive(issuer);
        }
        if (snap.evidenceProblem() != null) {
            // Dual control (invariant 4): the stored state is not what custodians signed; nothing signs until it is.
            refused(issuer.id(), dev.keyhold.activation.ApprovalEvidence.PROBLEM);
            throw ProblemException.conflict(
                    dev.keyhold.activation.ApprovalEvidence.PROBLEM,
                    "issuer " + issuer.id() + " cannot sign: its approval evidence does not verify ("
                            + snap.evidenceProblem() + ")");
        }
        Key key = snap.active();
        if (key == null) {
            refused(issuer.id(), "no-active-key");
            throw ProblemException.conflict("no-active-key", "issuer " + issuer.id() + " has no ACTIVE key");
        }
        if (!Deadlines.canSign(key, now)) {
            refused(issuer.id(), "key-not-usable");
            String why = key.hsmMissingAt() != null
                    ? "its HSM object is missing"
                    : "it is past notAfter (" + key.notAfter() + ")";
            throw ProblemException.conflict(
                    "key-not-usable",
                    "the ACTIVE key " + key.kid() + " of issuer " + issuer.id() + " cannot sign: " + why);
        }
        Map<String, Object> claims = claims(issuer, request, now);
        return new Prepared(issuer, key, claims, snap.encodedHeader() + "." + B64.encodeToString(json(claims)));
    }

    /** On an HSM thread: sign, queue the ledger entry, and return; the result completes once the entry is durable. */
    private void signAndRecord(Prepared p, CompletableFuture<SignResponse> result) {
        Issuer issuer = p.issuer();
        Key key = p.key();
        IssuanceLedger.Expected expected = ledger.expect();
        byte[] signature;
        try {
            signature = hsm.sign(
                    key.partition(),
                    key.hsmHandle(),
                    key.algorithm(),
                    p.signingInput().getBytes(StandardCharsets.US_ASCII));
        } catch (RuntimeException e) {
            expected.close();
            if (e instanceof HsmException) {
                refused(issuer.id(), "hsm");
                if (e instanceof HsmObjectMissingException) {
                    // a key that may sign by its row but has no private object: have it checked and reported now
                    objectMissing.fireAsync(new KeyObjectMissing(key.kid(), key.partition(), key.hsmHandle()));
                }
            }
            result.completeExceptionally(e);
            return;
        }
        String token = p.signingInput() + "." + B64.encodeToString(signature);
        Map<String, Object> claims = p.claims();
        long exp = ((Number) claims.get("exp")).longValue();
        // the token is handed out only once the issuance ledger holds it
        ledger.recordAsync(
                        expected,
                        token,
                        (String) claims.get("jti"),
                        key.kid(),
                        issuer.id(),
                        text(claims.get("sub")),
                        AuditHash.canonicalJson(claims.get("aud")),
                        ((Number) claims.get("iat")).longValue(),
                        exp,
                        issuer.evidence().ledgerBestEffort())
                .whenComplete((ok, e) -> {
                    if (e != null) {
                        result.completeExceptionally(e);
                        return;
                    }
                    signed.computeIfAbsent(
                                    issuer.id(),
                                    id -> Counter.builder("keyhold.signing.tokens")
                                            .description("tokens signed")
                                            .tag("issuer", id)
                                            .register(registry))
                            .increment();
                    result.complete(new SignResponse(token, key.kid(), Instant.ofEpochSecond(exp)));
                });
    }

    /** The payload: iss first, then the client's claims, then iat and exp. Every fault is reported at once. */
    Map<String, Object> claims(Issuer issuer, SignRequest request, Instant now) {
        List<FieldError> errors = new ArrayList<>();
        if (request == null || request.claims() == null) {
            throw new ValidationException(List.of(new FieldError("claims", "a claims object is required")));
        }
        Map<String, Object> in = request.claims();
        long iat = now.getEpochSecond();
        long maxExp = iat + issuer.policy().tokenTtl().getSeconds();
        long exp = maxExp;

        Object iss = in.get("iss");
        if (iss != null && !issuer.issuerUri().equals(iss)) {
            errors.add(new FieldError(
                    "claims.iss",
                    "must be absent or exactly " + issuer.issuerUri() + ": a key signs only for its own issuer"));
        }
        if (in.containsKey("iat")) {
            errors.add(new FieldError("claims.iat", "is set by Keyhold"));
        }
        checkAudience(issuer, in.get("aud"), errors);
        if (request.ttl() != null && in.containsKey("exp")) {
            errors.add(new FieldError("ttl", "give either ttl or claims.exp, not both"));
        } else if (request.ttl() != null) {
            Duration ttl = null;
            try {
                ttl = Duration.parse(request.ttl());
            } catch (DateTimeParseException e) {
                errors.add(new FieldError("ttl", "must be an ISO-8601 duration such as PT15M"));
            }
            if (ttl != null
                    && (ttl.getSeconds() < 1 || ttl.compareTo(issuer.policy().tokenTtl()) > 0)) {
                errors.add(new FieldError(
                        "ttl",
                        "must be between 1 second and the issuer's tokenTtl ("
                                + issuer.policy().tokenTtl() + ")"));
            } else if (ttl != null) {
                exp = iat + ttl.getSeconds();
            }
        } else if (in.containsKey("exp")) {
            Long e = integral(in.get("exp"));
            if (e == null) {
                errors.add(new FieldError("claims.exp", "must be a NumericDate (whole seconds since the epoch)"));
            } else if (e <= iat || e > maxExp) {
                errors.add(new FieldError(
                        "claims.exp",
                        "must be after now and at most now + tokenTtl ("
                                + issuer.policy().tokenTtl() + ")"));
            } else {
                exp = e;
            }
        }
        if (in.containsKey("nbf")) {
            Long nbf = integral(in.get("nbf"));
            if (nbf == null || nbf >= exp) {
                errors.add(new FieldError("claims.nbf", "must be a NumericDate before exp"));
            }
        }
        if (in.containsKey("jti") && !(in.get("jti") instanceof String j && !j.isEmpty() && j.length() <= 256)) {
            errors.add(new FieldError("claims.jti", "must be a string of 1 to 256 characters"));
        }
        if (!errors.isEmpty()) {
            refused(issuer.id(), "invalid-claims");
            throw new ValidationException(errors);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("iss", issuer.issuerUri());
        in.forEach((k, v) -> {
            if (!k.equals("iss") && !k.equals("exp")) {
                out.put(k, v);
            }
        });
        // evidence: every token carries a jti, so the ledger and a relying party can name it
        out.putIfAbsent("jti", UUID.randomUUID().toString());
        out.put("iat", iat);
        out.put("exp", exp);
        return out;
    }

    private static void checkAudience(Issuer issuer, Object aud, List<FieldError> errors) {
        Collection<?> values;
        if (aud instanceof String s) {
            values = List.of(s);
        } else if (aud instanceof Collection<?> c && !c.isEmpty()) {
            values = c;
        } else {
            errors.add(
                    new FieldError("claims.aud", "required: one of " + issuer.audiences() + ", or an array of them"));
            return;
        }
        for (Object v : values) {
            if (!(v instanceof String s) || !issuer.audiences().contains(s)) {
                errors.add(new FieldError(
                        "claims.aud",
                        "'" + v + "' is not an audience of issuer " + issuer.id() + "; allowed: "
                                + issuer.audiences()));
                return;
            }
        }
    }

    private static String text(Object v) {
        return v == null ? null : v instanceof String s ? s : AuditHash.canonicalJson(v);
    }

    private static Long integral(Object v) {
        if (v instanceof Integer || v instanceof Long) {
            return ((Number) v).longValue();
        }
        if (v instanceof BigInteger b && b.bitLength() < 63) {
            return b.longValue();
        }
        return null;
    }

    private byte[] json(Map<String, Object> claims) {
        try {
            return mapper.writeValueAsBytes(claims);
        } catch (JsonProcessingException e) {
            throw ProblemException.badRequest("the claims cannot be written as JSON");
        }
    }

    private void refused(String issuerId, String reason) {
        registry.counter("keyhold.signing.refusals", "issuer", issuerId, "reason", reason)
                .increment();
    }
}
