package dev.keyhold.trust;

import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.config.TrustSettings;
import dev.keyhold.hsm.HsmException;
import dev.keyhold.hsm.HsmObjectMissingException;
import dev.keyhold.hsm.HsmPort;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Signs staged bundles with the trust key, after the change that staged them committed: first on the committing
 * thread (so a bundle is normally served as soon as the change's response is sent), then, for whatever that left
 * (an HSM outage, a crash, another instance's changes), by a timer that takes issuers with a revocation waiting
 * first. An issuer's bundles are signed in sequence order, since each one's {@code previous} is the SHA-256 of the
 * one before as first signed. The timer also re-signs each issuer's newest bundle (same content, new iat/exp) when
 * its exp comes within {@code keyhold.trust.resign-before}, so a validator can tell "nothing changed" from "frozen".
 */
@ApplicationScoped
public class TrustBundleSigner {

    static final String ACTOR = "keyhold-trust";
    public static final String TYP = "keyhold-trust-bundle+jwt";
    public static final String EVENT = "keyhold.trust.bundle-published";
    private static final Logger LOG = Logger.getLogger(TrustBundleSigner.class);
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    @Inject
    TrustBundleStore store;

    @Inject
    HsmPort hsm;

    @Inject
    TrustKeys keys;

    @Inject
    ChangeRecorder recorder;

    @Inject
    Clock clock;

    @Inject
    TrustSettings settings;

    @Inject
    TrustStatus status;

    void afterCommit(@Observes(during = TransactionPhase.AFTER_SUCCESS) BundleStaged staged) {
        try {
            signIssuer(staged.issuerId());
        } catch (RuntimeException e) {
            // The change stands; the timer signs the bundle once the trust key answers again.
            failed(e);
        }
    }

    @Scheduled(
            every = "${keyhold.trust.sign-interval:PT5S}",
            delayed = "5s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void periodic() {
        try {
            signDue(settings.signGrace());
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    /**
     * Signs every unsigned bundle staged longer than {@code grace} ago (issuers with a revocation waiting first) and
     * re-signs the newest bundles near expiry. Returns the number of signatures made. Blocking.
     */
    public int signDue(Duration grace) {
        List<String> issuers = QuarkusTransaction.requiringNew().call(() -> store.issuersWithUnsigned(grace));
        int signed = 0;
        for (String issuerId : issuers) {
            signed += signIssuer(issuerId);
        }
        return signed + resignDue();
    }

    /** Signs the issuer's unsigned bundles in sequence order; returns how many. */
    public int signIssuer(String issuerId) {
        int signed = 0;
        int keyChanges = 0;
        while (true) {
            TrustKeys.TrustKey key = keys.ensure();
            Boolean done = QuarkusTransaction.requiringNew().call(() -> signNext(issuerId, key));
            if (done == null && ++keyChanges <= 3) {
                continue; // the trust key was rotated under us: sign with the new one
            }
            if (done == null || !done) {
                return signed;
            }
            signed++;
        }
    }

    /** Re-signs each issuer's newest bundle whose latest signature expires within resign-before. */
    public int resignDue() {
        Instant horizon = clock.instant().plus(settings.resignBefore());
        List<TrustBundleStore.BundleRef> due =
                QuarkusTransaction.requiringNew().call(() -> store.dueForResigning(horizon));
        int n = 0;
        for (TrustBundleStore.BundleRef d : due) {
            TrustKeys.TrustKey key = keys.ensure();
            String issuerId = d.issuerId();
            long sequence = d.sequence();
            if (QuarkusTransaction.requiringNew().call(() -> resign(issuerId, sequence, key, horizon))) {
                n++;
            }
        }
        return n;
    }

    /** Signs the issuer's oldest unsigned bundle: true if signed, false if none, null if the key is no longer CURRENT. */
    private Boolean signNext(String issuerId, TrustKeys.TrustKey key) {
        if (!keys.lockIfCurrent(key)) {
            return null;
        }
        Optional<TrustBundleStore.Unsigned> oldest = store.lockOldestUnsigned(issuerId);
        if (oldest.isEmpty()) {
            return false;
        }
        TrustBundleStore.Unsigned bundle = oldest.get();
        long sequence = bundle.sequence();
        String previous = null;
        if (sequence > 1) {
            String prevJws = store.firstJws(issuerId, sequence - 1);
            if (prevJws == null) {
                return false; // the one before is being signed by someone else; they continue from there
            }
            previous = BundleContent.sha256Hex(prevJws);
        }
        Instant iat = Instant.ofEpochSecond(clock.instant().getEpochSecond());
        Instant exp = iat.plus(settings.validity());
        String jws = sign(key, BundleContent.parse(bundle.content()), iat, exp, previous);
        store.markFirstSigned(issuerId, sequence, previous, clock.instant());
        store.insertSignature(issuerId, sequence, iat, exp, key, null, jws, clock.instant());
        Map<String, Object> details = details(sequence, iat, exp, key, jws);
        details.put("previous", previous);
        details.put("rollbackOf", bundle.rollbackOf());
        recorder.record(
                new Change("trust.bundle-published", ACTOR, Change.SUCCESS, issuerId, null, details, EVENT, details));
        status.signed(clock.instant());
        return true;
    }

    private boolean resign(String issuerId, long sequence, TrustKeys.TrustKey key, Instant horizon) {
        if (!keys.lockIfCurrent(key)) {
            return false; // rotated meanwhile; the next round re-signs with the new key
        }
        TrustBundleStore.Resignable bundle = store.lockForResigning(issuerId, sequence);
        Instant latestExp = bundle.latestExp();
        long newer = store.countNewer(issuerId, sequence);
        if (latestExp.isAfter(horizon) || newer > 0) {
            return false; // re-signed by another instance meanwhile, or superseded
        }
        Instant iat = Instant.ofEpochSecond(clock.instant().getEpochSecond());
        Instant exp = iat.plus(settings.validity());
        String previous = bundle.previous();
        String jws = sign(key, BundleContent.parse(bundle.content()), iat, exp, previous);
        store.insertSignature(issuerId, sequence, iat, exp, key, null, jws, clock.instant());
        Map<String, Object> details = details(sequence, iat, exp, key, jws);
        details.put("resigned", true);
        recorder.record(
                new Change("trust.bundle-resigned", ACTOR, Change.SUCCESS, issuerId, null, details, EVENT, details));
        status.signed(clock.instant());
        return true;
    }

    /** The compact JWS of a bundle: canonical header and payload, ES256 by the trust key in the HSM. */
    String sign(TrustKeys.TrustKey key, Map<String, Object> content, Instant iat, Instant exp, String previous) {
        byte[] input = signingInput(key.kid(), payload(content, iat, exp, previous));
        byte[] sig = hsm.sign(key.partition(), key.handle(), TrustKeys.ALG, input);
        return new String(input, StandardCharsets.US_ASCII) + "." + B64.encodeToString(sig);
    }

    /** The payload as signed: the staged content plus iat, exp (NumericDate) and previous, canonical JSON. */
    static String payload(Map<String, Object> content, Instant iat, Instant exp, String previous) {
        Map<String, Object> p = new LinkedHashMap<>(content);
        p.put("iat", iat.getEpochSecond());
        p.put("exp", exp.getEpochSecond());
        p.put("previous", previous);
        return Jcs.canonicalize(p);
    }

    static byte[] signingInput(String kid, String payload) {
        return signingInput(kid, Map.of(), payload);
    }

    /** The signing input with further protected header parameters (a takeover's {@code successor}). */
    static byte[] signingInput(String kid, Map<String, Object> extraHeader, String payload) {
        Map<String, Object> header = new LinkedHashMap<>(extraHeader);
        header.put("alg", TrustKeys.ALG.name());
        header.put("kid", kid);
        header.put("typ", TYP);
        return (B64.encodeToString(Jcs.canonicalize(header).getBytes(StandardCharsets.UTF_8)) + "."
                        + B64.encodeToString(payload.getBytes(StandardCharsets.UTF_8)))
                .getBytes(StandardCharsets.US_ASCII);
    }

    static Map<String, Object> details(long sequence, Instant iat, Instant exp, TrustKeys.TrustKey key, String jws) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("sequence", sequence);
        d.put("iat", iat.toString());
        d.put("exp", exp.toString());
        d.put("trustKid", key.kid());
        d.put("jwsSha256", BundleContent.sha256Hex(jws));
        return d;
    }

    private void failed(RuntimeException e) {
        String reason = e instanceof HsmObjectMissingException
                ? "the trust key's HSM object is missing"
                : e instanceof HsmException ? "HSM: " + e.getMessage() : e.getMessage();
        status.failed(reason, clock.instant());
        LOG.warnf("trust bundles not signed: %s", reason);
    }
}
