package dev.keyhold.trust;

import com.nimbusds.jose.jwk.JWK;
import dev.keyhold.activation.ActivationRequests;
import dev.keyhold.activation.ApprovedRequestExecutor;
import dev.keyhold.activation.Denied;
import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.command.LifecycleCommands;
import dev.keyhold.config.TrustSettings;
import dev.keyhold.domain.ActivationKind;
import dev.keyhold.error.ProblemException;
import dev.keyhold.error.ValidationException;
import dev.keyhold.error.ValidationException.FieldError;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.hsm.PublicJwks;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.security.Roles;
import dev.keyhold.store.ActivationRequestEntity;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Trust key rotation, with the issuer keys' discipline: proposing it generates a NEXT trust key in the HSM, announced
 * at once by {@code GET /v1/trust-anchor} (CURRENT, then NEXT), and opens a {@code TRUST_KEY_ROTATION} request that the
 * governing issuer's custodians decide M-of-N like any other (never the requester). Approved, in the deciding
 * transaction: the CURRENT key becomes RETIRED and NEXT becomes CURRENT, and each issuer's newest signed bundle is
 * signed again (same content and sequence, fresh iat/exp) by both keys, as a JWS JSON serialization with two
 * signatures, so a validator that pinned only the old key can verify the new key's first bundle and move to it.
 * The retiring key's protected header carries {@value #SUCCESSOR}: the new key's public JWK, endorsed by the old key.
 * That co-signature is the retired key's last use: the signer only signs with a key that is CURRENT under a row lock
 * ({@link TrustKeys#lockIfCurrent}), and the rotation updates that row before it signs anything.
 */
@ApplicationScoped
public class TrustKeyRotations implements ApprovedRequestExecutor {

    static final String JWS_JSON_MEDIA_TYPE = "application/jose+json";
    /** Protected header parameter of the retiring key's signature: the public JWK of the key taking over. */
    public static final String SUCCESSOR = "successor";

    @Inject
    TrustKeys keys;

    @Inject
    TrustAnchorDocument anchor;

    @Inject
    TrustSettings settings;

    @Inject
    HsmPort hsm;

    @Inject
    IssuerService issuers;

    @Inject
    ActivationRequests requests;

    @Inject
    ChangeRecorder recorder;

    @Inject
    LifecycleCommands commands;

    @Inject
    TrustBundleStore store;

    @Inject
    Clock clock;

    public record RotationRequest(String reason) {}

    /**
     * Opens the rotation request, generating the NEXT key first unless one is already announced (a rejected or
     * expired rotation leaves its NEXT key for the next proposal). Outside any transaction: the HSM generation is
     * not held inside one.
     */
    public ActivationRequestEntity propose(RotationRequest body, SecurityIdentity who) {
        String governing = settings.governingIssuer()
                .filter(s -> !s.isBlank())
                .orElseThrow(() -> ProblemException.conflict(
                        "trust-key-rotation-not-configured",
                        "trust key rotation needs keyhold.trust.governing-issuer: the"
                                + " issuer whose custodians decide it"));
        if (body != null && body.reason() != null && body.reason().length() > 500) {
            throw new ValidationException(List.of(new FieldError("reason", "at most 500 characters")));
        }
        QuarkusTransaction.requiringNew().run(() -> {
            if (IssuerEntity.findById(governing) == null) {
                throw ProblemException.conflict(
                        "trust-key-rotation-not-configured",
                        "the governing issuer '" + governing + "' (keyhold.trust.governing-issuer) does not exist");
            }
            checkOpenable(issuers.lock(governing), who);
        });
        TrustKeys.TrustKey current = keys.ensure();
        TrustKeys.TrustKey next =
                keys.next().orElseGet(() -> generateNext(who.getPrincipal().getName()));
        String reason = body == null || body.reason() == null ? "trust key rotation" : body.reason();
        return QuarkusTransaction.requiringNew().call(() -> {
            IssuerEntity issuer = issuers.lock(governing);
            checkOpenable(issuer, who);
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("currentTrustKid", current.kid());
            payload.put("nextTrustKid", next.kid());
            return requests.open(
                    issuer,
                    ActivationKind.TRUST_KEY_ROTATION,
                    who.getPrincipal().getName(),
                    reason,
                    Jcs.canonicalize(payload));
        });
    }

    private void checkOpenable(IssuerEntity governing, SecurityIdentity who) {
        String actor = who.getPrincipal().getName();
        if (!who.hasRole(Roles.ADMIN) && !(who.hasRole(Roles.CUSTODIAN) && governing.custodians.contains(actor))) {
            throw new Denied(
                    "trust.key-rotation",
                    actor,
                    governing.id,
                    null,
                    Map.of(),
                    "'" + actor + "' is neither an admin nor a custodian of the governing issuer " + governing.id);
        }
        if (requests.live(governing, ActivationKind.TRUST_KEY_ROTATION).isPresent()) {
            throw ProblemException.conflict(
                    "trust-key-rotation-pending", "a trust key rotation is already awaiting decisions");
        }
    }

    private TrustKeys.TrustKey generateNext(String actor) {
        String partition = settings.partition();
        String handle =
                settings.keyHandle() + "-" + UUID.randomUUID().toString().substring(0, 13);
        PublicKey pub = hsm.generate(partition, handle, TrustKeys.ALG);
        JWK jwk = PublicJwks.of(pub, TrustKeys.ALG);
        int inserted = QuarkusTransaction.requiringNew().call(() -> {
            anchor.changing();
            int n = keys.insert(jwk, partition, handle, "NEXT") ? 1 : 0;
            if (n == 1) {
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("trustKid", jwk.getKeyID());
                details.put("state", "NEXT");
                recorder.record(Change.auditOnly("trust.key-created", actor, Change.SUCCESS, null, null, details));
            }
            return n;
        });
        if (inserted == 0) {
            hsm.destroy(partition, handle); // another proposal announced its NEXT key first: use that one
            return keys.next()
                    .orElseThrow(() -> ProblemException.conflict(
                            "trust-key-rotation-raced",
                            "another trust key rotation changed the trust keys meanwhile; try again"));
        }
        return keys.byKid(jwk.getKeyID()).orElseThrow();
    }

    @Override
    public ActivationKind kind() {
        return ActivationKind.TRUST_KEY_ROTATION;
    }

    /**
     * Carries out an approved rotation inside the deciding transaction (governing issuer and request locked by the
     * caller). Returns false, with the request cancelled, when the keys it names are no longer CURRENT and NEXT.
     */
    @Override
    @Transactional(Transactional.TxType.MANDATORY)
    public boolean execute(IssuerEntity issuer, ActivationRequestEntity r, String actor, Instant now) {
        Map<String, Object> p = BundleContent.parse(r.payload);
        String oldKid = (String) p.get("currentTrustKid");
        String newKid = (String) p.get("nextTrustKid");
        Map<String, String> states = keys.lockAnchorStates();
        if (!"CURRENT".equals(states.get(oldKid)) || !"NEXT".equals(states.get(newKid))) {
            var cancel = r.toRequest()
                    .cancel(
                            now,
                            "the trust keys changed since the rotation was proposed: " + oldKid
                                    + " is no longer CURRENT or " + newKid + " no longer NEXT");
            commands.apply(issuer, r, cancel, actor);
            return false;
        }
        TrustKeys.TrustKey oldKey = keys.byKid(oldKid).orElseThrow();
        anchor.changing();
        keys.promote(oldKid, newKid, now);
        TrustKeys.TrustKey newKey = keys.byKid(newKid).orElseThrow();
        int dual = coSignNewest(oldKey, newKey, now);
        commands.apply(issuer, r, r.toRequest().execute(now), actor);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("requestId", r.id.toString());
        details.put("requester", r.requester);
        details.put("retiredTrustKid", oldKid);
        details.put("currentTrustKid", newKid);
        details.put("dualSignedBundles", dual);
        recorder.record(Change.auditOnly("trust.key-rotated", actor, Change.SUCCESS, issuer.id, null, details));
        return true;
    }

    /** Signs each issuer's newest signed bundle again with both keys; returns how many. */
    private int coSignNewest(TrustKeys.TrustKey oldKey, TrustKeys.TrustKey newKey, Instant now) {
        List<TrustBundleStore.NewestSigned> newest = store.lockNewestSigned();
        for (TrustBundleStore.NewestSigned row : newest) {
            String issuerId = row.issuerId();
            long sequence = row.sequence();
            // iat is unique per bundle signature: a signature made earlier in this same second moves this one on by
            // one.
            long iatSeconds = Math.max(now.getEpochSecond(), row.latestIat().getEpochSecond() + 1);
            Instant iat = Instant.ofEpochSecond(iatSeconds);
            Instant exp = iat.plus(settings.validity());
            String payload = TrustBundleSigner.payload(BundleContent.parse(row.content()), iat, exp, row.previous());
            String jws = dualSign(oldKey, newKey, payload);
            store.insertSignature(issuerId, sequence, iat, exp, newKey, oldKey, jws, clock.instant());
            Map<String, Object> details = TrustBundleSigner.details(sequence, iat, exp, newKey, jws);
            details.put("resigned", true);
            details.put("coTrustKid", oldKey.kid());
            recorder.record(new Change(
                    "trust.bundle-resigned",
                    TrustBundleSigner.ACTOR,
                    Change.SUCCESS,
                    issuerId,
                    null,
                    details,
                    TrustBundleSigner.EVENT,
                    details));
        }
        return newest.size();
    }

    /**
     * RFC 7515 §7.2.1 general JWS JSON serialization of one payload with two signatures, each over its own protected
     * header (alg, kid, typ) and the shared payload, made in the HSM. Canonical JSON, so the bytes are stable.
     */
    String dualSign(TrustKeys.TrustKey first, TrustKeys.TrustKey second, String payload) {
        List<Map<String, Object>> signatures = new java.util.ArrayList<>();
        String encodedPayload = null;
        for (TrustKeys.TrustKey key : List.of(first, second)) {
            // The old key's header names its successor's public JWK, so a validator that pinned only the old key
            // learns the new one from a signature it can check, then checks the new key's own signature with it.
            Map<String, Object> extra =
                    key == first ? Map.of(SUCCESSOR, second.jwk().toPublicJWK().toJSONObject()) : Map.of();
            byte[] input = TrustBundleSigner.signingInput(key.kid(), extra, payload);
            String[] parts = new String(input, StandardCharsets.US_ASCII).split("\\.");
            encodedPayload = parts[1];
            byte[] sig = hsm.sign(key.partition(), key.handle(), TrustKeys.ALG, input);
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("protected", parts[0]);
            s.put("signature", java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(sig));
            signatures.add(s);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("payload", encodedPayload);
        json.put("signatures", signatures);
        return Jcs.canonicalize(json);
    }
}
