package dev.keyhold.trust;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.activation.ActivationRequests;
import dev.keyhold.activation.ActivationService;
import dev.keyhold.activation.ApprovedRequestExecutor;
import dev.keyhold.activation.Denied;
import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.command.LifecycleCommands;
import dev.keyhold.config.TrustSettings;
import dev.keyhold.domain.ActivationKind;
import dev.keyhold.domain.IssuerPolicy;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.domain.Transition;
import dev.keyhold.error.ProblemException;
import dev.keyhold.error.ValidationException;
import dev.keyhold.error.ValidationException.FieldError;
import dev.keyhold.issuer.Issuer;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerRequest;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.issuer.IssuerValidator;
import dev.keyhold.security.Roles;
import dev.keyhold.store.ActivationRequestEntity;
import dev.keyhold.store.KeyEntity;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trust rollbacks: return an issuer to the trust metadata of an earlier bundle n, decided M-of-N as a
 * {@code TRUST_ROLLBACK} activation request. Carried out, it puts the issuer's audiences and algorithm back to
 * bundle n's (validated as a policy change is), revokes with reason {@code rollback} every key published after n
 * that cannot sign yet (PENDING), and publishes a new bundle with {@code rollbackOf: n}. It never re-admits a key:
 * the new bundle's keys come from the recorded state, so a key revoked, destroyed or unpublished since n stays out.
 * It is refused (409) when a key published after n has signed (the ACTIVE key, or a RETIRED one still published):
 * leaving it out would break tokens in flight or the issuer's signing, and a retired key never signs again.
 * The plan is made again when the request is carried out, against the state of that moment, so a rotation that
 * came in between is rolled back too (its PENDING key is revoked), or, if it changed the ACTIVE key, the request is
 * cancelled rather than applied half-way.
 */
@ApplicationScoped
public class TrustRollbacks implements ApprovedRequestExecutor {

    public static final String REVOCATION_REASON = "rollback";

    @Inject
    IssuerService issuers;

    @Inject
    IssuerValidator validator;

    @Inject
    ActivationRequests requests;

    @Inject
    ActivationService activations;

    @Inject
    ChangeRecorder recorder;

    @Inject
    LifecycleCommands commands;

    @Inject
    TrustBundles bundles;

    @Inject
    TrustBundleStore store;

    @Inject
    TrustKeys trustKeys;

    @Inject
    TrustSettings settings;

    @Inject
    Clock clock;

    @Inject
    ObjectMapper json;

    public record RollbackRequest(Long toSequence, String reason) {}

    /** What a rollback to bundle n does now. */
    record Plan(
            long toSequence,
            long fromSequence,
            List<String> audiences,
            SigningAlgorithm algorithm,
            List<String> revoke) {}

    /** What a rollback would publish, signed as it would be signed now. */
    public record Preview(
            String issuerId,
            long toSequence,
            long sequence,
            List<String> audiences,
            String algorithm,
            List<String> revokes,
            String trustKid,
            String payload,
            String signingInput) {}

    @Transactional
    public ActivationRequestEntity propose(String issuerId, RollbackRequest body, SecurityIdentity who) {
        IssuerEntity issuer = issuers.lock(issuerId);
        String actor = who.getPrincipal().getName();
        if (!who.hasRole(Roles.ADMIN) && !(who.hasRole(Roles.CUSTODIAN) && issuer.custodians.contains(actor))) {
            throw new Denied(
                    "trust.rollback",
                    actor,
                    issuer.id,
                    null,
                    Map.of(),
                    "'" + actor + "' is neither an admin nor a custodian of issuer " + issuer.id);
        }
        List<FieldError> errors = new ArrayList<>();
        if (body == null || body.toSequence() == null || body.toSequence() < 1) {
            errors.add(new FieldError("toSequence", "required, the sequence of an earlier bundle of this issuer"));
        }
        if (body != null && body.reason() != null && body.reason().length() > 500) {
            errors.add(new FieldError("reason", "at most 500 characters"));
        }
        if (!errors.isEmpty()) {
            throw new ValidationException(errors);
        }
        Plan plan = plan(issuer, body.toSequence());
        if (requests.live(issuer, ActivationKind.TRUST_ROLLBACK).isPresent()) {
            throw ProblemException.conflict(
                    "trust-rollback-pending",
                    "issuer " + issuerId + " already has a trust rollback awaiting decisions");
        }
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("toSequence", plan.toSequence());
        payload.put("fromSequence", plan.fromSequence());
        payload.put("audiences", plan.audiences());
        payload.put("algorithm", plan.algorithm().name());
        payload.put("revokes", plan.revoke());
        String reason = body.reason() == null ? "trust rollback to bundle " + plan.toSequence() : body.reason();
        return requests.open(issuer, ActivationKind.TRUST_ROLLBACK, actor, reason, write(payload));
    }

    /**
     * Carries out an approved rollback inside the deciding transaction (issuer and request rows locked by the
     * caller). Returns whether it was executed; when the plan no longer holds the request is cancelled instead.
     */
    @Override
    public ActivationKind kind() {
        return ActivationKind.TRUST_ROLLBACK;
    }

    @Override
    @Transactional(Transactional.TxType.MANDATORY)
    public boolean execute(IssuerEntity issuer, ActivationRequestEntity r, String actor, Instant now) {
        Plan plan;
        try {
            long n = ((Number) BundleContent.parse(r.payload).get("toSequence")).longValue();
            plan = plan(issuer, n);
        } catch (ProblemException refused) {
            var cancel = r.toRequest().cancel(now, "the rollback no longer applies: " + refused.getMessage());
            commands.apply(issuer, r, cancel, actor);
            return false;
        }
        // Every change first, then the records: the bundle is computed at the first record, from the final state.
        Map<String, Object> changes = new LinkedHashMap<>();
        if (!issuer.audiences.equals(plan.audiences())) {
            changes.put("audiences", Map.of("from", List.copyOf(issuer.audiences), "to", plan.audiences()));
        }
        if (issuer.algorithm != plan.algorithm()) {
            changes.put(
                    "algorithm",
                    Map.of(
                            "from",
                            issuer.algorithm.name(),
                            "to",
                            plan.algorithm().name()));
        }
        issuer.audiences = new ArrayList<>(plan.audiences());
        issuer.algorithm = plan.algorithm();
        issuer.updatedAt = now;
        Map<KeyEntity, Transition<Key>> revoked = new LinkedHashMap<>();
        for (String kid : plan.revoke()) {
            KeyEntity k = KeyEntity.lockByKid(kid).orElseThrow();
            revoked.put(k, k.toKey().revoke(now, issuer.policy(), REVOCATION_REASON));
        }
        commands.apply(issuer, r, r.toRequest().execute(now), actor);
        bundles.markRollback(issuer.id, plan.toSequence());
        commands.applyAll(issuer, revoked, actor);
        for (KeyEntity k : revoked.keySet()) {
            activations.cancelForKey(issuer, k.kid, actor);
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("requestId", r.id.toString());
        details.put("requester", r.requester);
        details.put("toSequence", plan.toSequence());
        details.put("fromSequence", plan.fromSequence());
        details.put("revoked", plan.revoke());
        details.put("changes", changes);
        recorder.record(Change.announced("trust.rolled-back", actor, issuer.id, null, details));
        return true;
    }

    /** The bundle a rollback to n would publish if approved now, signed now. Reads only. */
    @Transactional
    public Preview preview(String issuerId, Long toSequence) {
        if (toSequence == null || toSequence < 1) {
            throw new ValidationException(List.of(new FieldError("toSequence", "required, a bundle sequence")));
        }
        IssuerEntity issuer = IssuerEntity.findById(issuerId);
        if (issuer == null) {
            throw ProblemException.notFound("issuer", issuerId);
        }
        Plan plan = plan(issuer, toSequence);
        Instant now = clock.instant();
        Issuer current = issuer.toIssuer();
        Issuer after = new Issuer(
                current.id(),
                current.issuerUri(),
                current.partition(),
                plan.algorithm(),
                plan.audiences(),
                current.custodians(),
                current.approvalsRequired(),
                current.signers(),
                current.policy(),
                current.status(),
                current.createdAt(),
                current.evidence());
        List<Key> keys = KeyEntity.ofIssuer(issuerId).stream()
                .map(KeyEntity::toKey)
                .map(k -> plan.revoke().contains(k.kid()) ? revokedNow(k, now) : k)
                .toList();
        BundleContent.Content content =
                BundleContent.of(after, keys, bundles.refreshHint(), plan.fromSequence() + 1, plan.toSequence());
        String newestJws = store.firstJws(issuerId, plan.fromSequence());
        if (newestJws == null) {
            throw ProblemException.conflict(
                    "trust-bundle-unsigned",
                    "bundle " + plan.fromSequence()
                            + " is not signed yet; the preview chains to it, so try again once it is");
        }
        TrustKeys.TrustKey key = trustKeys
                .current()
                .orElseThrow(() -> ProblemException.unavailable("trust-key-missing", "no trust key exists yet"));
        Instant iat = Instant.ofEpochSecond(now.getEpochSecond());
        String payload = TrustBundleSigner.payload(
                BundleContent.parse(content.canonical()),
                iat,
                iat.plus(settings.validity()),
                BundleContent.sha256Hex(newestJws));
        String input = new String(TrustBundleSigner.signingInput(key.kid(), payload), StandardCharsets.US_ASCII);
        return new Preview(
                issuerId,
                plan.toSequence(),
                plan.fromSequence() + 1,
                plan.audiences(),
                plan.algorithm().name(),
                plan.revoke(),
                key.kid(),
                payload,
                input);
    }

    /** Checks a rollback of the (locked) issuer to bundle n against the recorded state now. */
    Plan plan(IssuerEntity issuer, long toSequence) {
        TrustBundleStore.RollbackTarget target = store.rollbackTarget(issuer.id, toSequence)
                .orElseThrow(() -> ProblemException.notFound("trust bundle", issuer.id + "/" + toSequence));
        long newest = store.newestSequence(issuer.id);
        if (toSequence == newest) {
            throw new ValidationException(List.of(new FieldError(
                    "toSequence", toSequence + " is the issuer's current bundle; there is nothing to roll back")));
        }
        List<String> targetKids = BundleContent.kids(BundleContent.parse(target.content()));
        List<String> revoke = new ArrayList<>();
        for (KeyEntity k : KeyEntity.ofIssuer(issuer.id)) {
            if (!BundleContent.published(k.toKey()) || targetKids.contains(k.kid)) {
                continue;
            }
            switch (k.state) {
                case PENDING -> revoke.add(k.kid);
                case ACTIVE ->
                    throw ProblemException.conflict(
                            "rollback-excludes-active-key",
                            "bundle " + toSequence
                                    + " does not publish the issuer's ACTIVE key " + k.kid
                                    + "; a rollback may not leave the key"
                                    + " that signs out of the issuer's trust");
                default ->
                    throw ProblemException.conflict(
                            "rollback-excludes-signing-key",
                            "key " + k.kid
                                    + " was published after bundle " + toSequence
                                    + " and has signed tokens that verify until "
                                    + k.verifyUntil + "; revoke it first if it must go");
            }
        }
        List<String> audiences = readList(target.audiences());
        String algorithm = target.algorithm();
        IssuerPolicy p = issuer.policy();
        // The same validation as a policy change of these two fields.
        validator.validate(new IssuerRequest(
                issuer.id,
                issuer.issuerUri,
                issuer.partition,
                algorithm,
                audiences,
                issuer.custodians,
                issuer.approvalsRequired,
                issuer.signers,
                p.rotationPeriod().toString(),
                p.publishLead().toString(),
                p.tokenTtl().toString(),
                p.activeDeadline().toString(),
                p.destroyGrace().toString(),
                p.approvalTtl().toString(),
                issuer.toIssuer().evidence().suspendOnCompromise(),
                issuer.toIssuer().evidence().ledgerBestEffort()));
        return new Plan(toSequence, newest, audiences, SigningAlgorithm.valueOf(algorithm), List.copyOf(revoke));
    }

    private static Key revokedNow(Key k, Instant now) {
        return new Key(
                k.kid(),
                k.issuerId(),
                k.algorithm(),
                k.partition(),
                k.hsmHandle(),
                k.publicJwk(),
                KeyState.REVOKED,
                k.createdAt(),
                k.activatableAt(),
                k.activatedAt(),
                k.notAfter(),
                k.retiredAt(),
                k.verifyUntil(),
                k.unpublishedAt(),
                k.destroyAt(),
                k.destroyedAt(),
                now,
                REVOCATION_REASON,
                k.hsmMissingAt());
    }

    private List<String> readList(String jsonArray) {
        try {
            return List.of(json.readValue(jsonArray, String[].class));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored audiences are not a JSON array", e);
        }
    }

    private String write(Object o) {
        try {
            return json.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
