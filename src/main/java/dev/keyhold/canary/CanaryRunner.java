package dev.keyhold.canary;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.issuer.Issuer;
import dev.keyhold.verify.TokenVerifier;
import dev.keyhold.verify.Verdict;
import dev.keyhold.verify.VerificationDirectory;
import dev.keyhold.verify.VerifierGate;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jboss.logging.Logger;

/**
 * Forged-token canaries: a self-test that keeps proving the reference validator ({@link TokenVerifier}, the
 * engine of {@code POST /v1/verify}) rejects the tokens an attacker would try, each for the right reason.
 * Tokens are signed for real in the HSM with the canary issuers' keys (see {@link CanaryFixtures}); the forger
 * bypasses the sign API on purpose, and its tokens live only in memory for the duration of a run.
 *
 * <p>A failing run turns the {@code canaries} health check DOWN (health groups {@code canaries} and
 * {@code operations}, not readiness) and records {@code keyhold.canary.failed} (an extension of SPEC's event types)
 * once per new set of failures. A wrong verdict also closes {@link VerifierGate}: {@code POST /v1/verify} answers 503
 * until a run passes. A run cut short because Keyhold is stopping is not a failure: it is logged at INFO and not
 * counted.
 */
@ApplicationScoped
public class CanaryRunner {

    private static final Logger LOG = Logger.getLogger(CanaryRunner.class);
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final SecureRandom RANDOM = new SecureRandom();

    @Inject
    CanaryFixtures fixtures;

    @Inject
    TokenVerifier verifier;

    @Inject
    VerificationDirectory directory;

    @Inject
    HsmPort hsm;

    @Inject
    ChangeRecorder recorder;

    @Inject
    Clock clock;

    @Inject
    ObjectMapper mapper;

    @Inject
    VerifierGate gate;

    private volatile CanaryReport last;
    /** Set when the application starts to stop: a run cut short by shutdown is not a failure. */
    private volatile boolean stopping;

    private List<String> lastAnnounced = List.of();

    @Scheduled(
            every = "${keyhold.canary.interval}",
            delayed = "10s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        runOnce();
    }

    void onStop(@Observes ShutdownEvent event) {
        stopping(true);
    }

    /** Package-private for the test that plays a shutdown in the middle of a run. */
    void stopping(boolean value) {
        stopping = value;
    }

    /** The latest report; empty before the first run. */
    public Optional<CanaryReport> last() {
        return Optional.ofNullable(last);
    }

    public synchronized CanaryReport runOnce() {
        Instant now = clock.instant();
        CanaryReport report;
        try {
            report = new CanaryReport(now, forgeAndCheck(fixtures.ensure(), now), null);
        } catch (RuntimeException e) {
            if (stopping) {
                // The database or HSM went away because Keyhold is stopping, not because the validator is wrong.
                LOG.infof(
                        "canary run cut short by shutdown (%s); not counted",
                        e.getClass().getSimpleName());
                return last;
            }
            LOG.errorf("canaries could not run: %s", e.toString());
            report = new CanaryReport(
                    now, List.of(), "could not run: " + e.getClass().getSimpleName());
        }
        if (stopping && !report.passed()) {
            LOG.infof("canary run during shutdown did not pass; not counted");
            return last;
        }
        last = report;
        if (report.passed()) {
            lastAnnounced = List.of();
            gate.open();
        } else {
            List<String> failed = report.error() != null ? List.of("(run)") : report.failed();
            if (report.error() == null) {
                // The engine gave a wrong verdict on a forgery: /v1/verify must not be trusted until a run passes.
                // A run that could not forge at all (HSM down) says nothing about the engine: the gate stays as is.
                gate.close("failed: " + String.join(", ", failed));
                LOG.errorf("CANARY FAILED: %s; POST /v1/verify refuses (503) until a run passes", report);
            } else {
                LOG.errorf("CANARY FAILED: %s", report);
            }
            if (!failed.equals(lastAnnounced)) {
                announce(report, failed);
                lastAnnounced = failed;
            }
        }
        return report;
    }

    private List<CanaryResult> forgeAndCheck(CanaryFixtures.Fixture f, Instant now) {
        Issuer a = f.a();
        Issuer b = f.b();
        Key key = f.pendingOfA();
        List<CanaryResult> out = new ArrayList<>();

        // Issuer A's own key, claiming issuer B, with B's audience: only the binding check stands in the way.
        out.add(check(
                "foreign-issuer-claim",
                Verdict.KID_NOT_BOUND_TO_ISSUER,
                signed(key, header(key.algorithm().name(), key.kid()), claims(b, now)),
                directory,
                now));
        // A revoked key's private object is destroyed at revocation (so the fixture's REVOKED key cannot sign any
        // more): the engine gets a directory in which A's pending key was revoked a minute ago.
        Key revoked = new Key(
                key.kid(),
                key.issuerId(),
                key.algorithm(),
                key.partition(),
                key.hsmHandle(),
                key.publicJwk(),
                KeyState.REVOKED,
                key.createdAt(),
                key.activatableAt(),
                null,
                null,
                null,
                null,
                null,
                now.plus(a.policy().destroyGrace()),
                null,
                now.minusSeconds(60),
                "canary",
                null);
        out.add(check(
                "revoked-key",
                Verdict.KEY_NOT_USABLE,
                signed(key, header(key.algorithm().name(), key.kid()), claims(a, now)),
                overlay(revoked),
                now));
        // The database cannot hold a canary key that is RETIRED (that needs an approved activation, which no one can
        // give for a canary issuer), so the engine gets a directory in which A's key retired and passed verifyUntil.
        Key retired = new Key(
                key.kid(),
                key.issuerId(),
                key.algorithm(),
                key.partition(),
                key.hsmHandle(),
                key.publicJwk(),
                KeyState.RETIRED,
                key.createdAt(),
                key.activatableAt(),
                now.minus(a.policy().tokenTtl()).minusSeconds(120),
                now.minus(a.policy().tokenTtl()).minusSeconds(60),
                now.minus(a.policy().tokenTtl()).minusSeconds(1),
                now.minusSeconds(1),
                null,
                null,
                null,
                null,
                null,
                null);
        out.add(check(
                "retired-past-verify-until",
                Verdict.KEY_NOT_USABLE,
                signed(key, header(key.algorithm().name(), key.kid()), claims(a, now)),
                overlay(retired),
                now));
        String unsigned = b64(header("none", key.kid())) + "." + b64(claims(a, now)) + ".";
        // An empty signature part is not a JWS at all (RFC 7515 compact form); "none" with bytes in it is a forgery.
        out.add(check("alg-none", Verdict.MALFORMED, unsigned, directory, now));
        out.add(check("alg-none-with-signature", Verdict.INVALID_SIGNATURE, unsigned + "c2lnbmF0dXJl", directory, now));
        out.add(check(
                "hs256-with-public-key",
                Verdict.INVALID_SIGNATURE,
                hmacWithPublicKey(key, claims(a, now)),
                directory,
                now));
        out.add(check(
                "alg-swap",
                Verdict.INVALID_SIGNATURE,
                signed(key, header("ES384", key.kid()), claims(a, now)),
                directory,
                now));
        byte[] random = new byte[32];
        RANDOM.nextBytes(random);
        out.add(check(
                "kid-from-nowhere",
                Verdict.KID_NOT_BOUND_TO_ISSUER,
                signed(key, header(key.algorithm().name(), B64.encodeToString(random)), claims(a, now)),
                directory,
                now));
        return out;
    }

    private CanaryResult check(String name, String expected, String token, VerificationDirectory dir, Instant now) {
        Verdict v = verifier.evaluate(token, dir, now).verdict();
        String actual = v.valid() ? "valid" : v.reason();
        return new CanaryResult(name, expected, actual, expected.equals(actual));
    }

    /** The live directory, except that {@code k}'s kid resolves to the given record. */
    private VerificationDirectory overlay(Key k) {
        return new VerificationDirectory() {
            @Override
            public Optional<Issuer> issuerByUri(String uri) {
                return directory.issuerByUri(uri);
            }

            @Override
            public Optional<Key> key(String kid) {
                return kid.equals(k.kid()) ? Optional.of(k) : directory.key(kid);
            }
        };
    }

    private String signed(Key key, Map<String, Object> header, Map<String, Object> claims) {
        String input = b64(header) + "." + b64(claims);
        byte[] sig =
                hsm.sign(key.partition(), key.hsmHandle(), key.algorithm(), input.getBytes(StandardCharsets.US_ASCII));
        return input + "." + B64.encodeToString(sig);
    }

    /** The classic confusion attack: HMAC keyed with the PEM text of the verifier's public key. */
    private String hmacWithPublicKey(Key key, Map<String, Object> claims) {
        try {
            PublicKey pub =
                    com.nimbusds.jose.jwk.JWK.parse(key.publicJwk()).toECKey().toECPublicKey();
            String pem = "-----BEGIN PUBLIC KEY-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                            .encodeToString(pub.getEncoded())
                    + "\n-----END PUBLIC KEY-----\n";
            String input = b64(header("HS256", key.kid())) + "." + b64(claims);
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(pem.getBytes(StandardCharsets.US_ASCII), "HmacSHA256"));
            return input + "." + B64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
        } catch (Exception e) {
            throw new IllegalStateException("could not forge the HS256 canary", e);
        }
    }

    private static Map<String, Object> header(String alg, String kid) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("alg", alg);
        h.put("kid", kid);
        h.put("typ", "JWT");
        return h;
    }

    /** Claims that pass every later check: right audience, fresh, not yet expired. */
    private static Map<String, Object> claims(Issuer claimed, Instant now) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("iss", claimed.issuerUri());
        c.put("sub", "canary");
        c.put("aud", claimed.audiences().get(0));
        c.put("iat", now.getEpochSecond());
        c.put("exp", now.getEpochSecond() + 300);
        return c;
    }

    private String b64(Map<String, Object> json) {
        try {
            return B64.encodeToString(mapper.writeValueAsBytes(json));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private void announce(CanaryReport report, List<String> failed) {
        try {
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("failed", failed);
            List<String> results = new ArrayList<>();
            report.results().stream()
                    .filter(r -> !r.passed())
                    .forEach(r -> results.add(r.name() + ": expected " + r.expected() + ", got " + r.actual()));
            details.put("results", results);
            if (report.error() != null) {
                details.put("error", report.error());
            }
            QuarkusTransaction.requiringNew()
                    .run(() -> recorder.record(
                            Change.announced("canary.failed", CanaryFixtures.ACTOR, null, null, details)));
        } catch (RuntimeException e) {
            LOG.errorf("could not record keyhold.canary.failed: %s", e.toString());
        }
    }
}
