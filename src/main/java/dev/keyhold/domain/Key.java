package dev.keyhold.domain;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One signing key version: an immutable snapshot of its row. {@code publicJwk} is the JSON of its public JWK.
 *
 * <p>Its lifecycle moves are pure functions: each checks the move against {@link KeyState}'s table (an illegal one
 * throws {@link IllegalTransitionException}), sets the timestamps that move sets, and returns the new value with
 * the change to record. Nothing here reads a clock, a database or the HSM.
 */
public record Key(
        String kid,
        String issuerId,
        SigningAlgorithm algorithm,
        String partition,
        String hsmHandle,
        String publicJwk,
        KeyState state,
        Instant createdAt,
        Instant activatableAt,
        Instant activatedAt,
        Instant notAfter,
        Instant retiredAt,
        Instant verifyUntil,
        Instant unpublishedAt,
        Instant destroyAt,
        Instant destroyedAt,
        Instant revokedAt,
        String revocationReason,
        Instant hsmMissingAt) {

    /**
     * A new PENDING key, generated in the HSM under {@code hsmHandle} at {@code now}: it may be activated from
     * {@code activatableAt} (the publish lead) on, once its activation request is approved.
     */
    public static Transition<Key> create(
            String kid,
            String issuerId,
            SigningAlgorithm algorithm,
            String partition,
            String hsmHandle,
            String publicJwk,
            Instant now,
            IssuerPolicy policy) {
        Instant activatable = Deadlines.activatableAt(now, policy);
        Key created = new Key(
                kid,
                issuerId,
                algorithm,
                partition,
                hsmHandle,
                publicJwk,
                KeyState.PENDING,
                now,
                activatable,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("algorithm", algorithm.name());
        details.put("partition", partition);
        details.put("activatableAt", activatable.toString());
        return new Transition<>(created, DomainChange.announced("key.created", kid, details));
    }

    /** PENDING → ACTIVE at {@code now}: signs until {@code notAfter}; never before {@code activatableAt}. */
    public Transition<Key> activate(Instant now, IssuerPolicy policy, String requestId) {
        state.requireMoveTo(KeyState.ACTIVE);
        if (now.isBefore(activatableAt)) {
            throw new IllegalTransitionException(
                    "not-yet-activatable",
                    "key " + kid + " cannot be activated before its activatableAt " + activatableAt);
        }
        Instant until = Deadlines.notAfter(now, policy);
        Key next = new Key(
                kid,
                issuerId,
                algorithm,
                partition,
                hsmHandle,
                publicJwk,
                KeyState.ACTIVE,
                createdAt,
                activatableAt,
                now,
                until,
                retiredAt,
                verifyUntil,
                unpublishedAt,
                destroyAt,
                destroyedAt,
                revokedAt,
                revocationReason,
                hsmMissingAt);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("requestId", requestId);
        details.put("notAfter", until.toString());
        details.put("rotationDue", Deadlines.rotationDue(now, policy).toString());
        return new Transition<>(next, DomainChange.announced("key.activated", kid, details));
    }

    /** ACTIVE → RETIRED as of {@code at}: stops signing, stays in the JWKS until {@code verifyUntil}. */
    public Transition<Key> retire(Instant at, IssuerPolicy policy, String why) {
        state.requireMoveTo(KeyState.RETIRED);
        Instant until = Deadlines.verifyUntil(at, policy);
        Key next = new Key(
                kid,
                issuerId,
                algorithm,
                partition,
                hsmHandle,
                publicJwk,
                KeyState.RETIRED,
                createdAt,
                activatableAt,
                activatedAt,
                notAfter,
                at,
                until,
                unpublishedAt,
                destroyAt,
                destroyedAt,
                revokedAt,
                revocationReason,
                hsmMissingAt);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("why", why);
        details.put("verifyUntil", until.toString());
        return new Transition<>(next, DomainChange.announced("key.retired", kid, details));
    }

    /** PENDING, ACTIVE or RETIRED → REVOKED at {@code now}: out of the JWKS at once, destroyed after destroyGrace. */
    public Transition<Key> revoke(Instant now, IssuerPolicy policy, String reason) {
        state.requireMoveTo(KeyState.REVOKED);
        Instant destroy = Deadlines.destroyAt(now, policy);
        Key next = new Key(
                kid,
                issuerId,
                algorithm,
                partition,
                hsmHandle,
                publicJwk,
                KeyState.REVOKED,
                createdAt,
                activatableAt,
                activatedAt,
                notAfter,
                retiredAt,
                verifyUntil,
                unpublishedAt,
                destroy,
                destroyedAt,
                now,
                reason,
                hsmMissingAt);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("reason", reason);
        details.put("previousState", state.name());
        details.put("destroyAt", destroy.toString());
        return new Transition<>(next, DomainChange.announced("key.revoked", kid, details));
    }

    /** RETIRED or REVOKED → DESTROYED at {@code now}; {@code hsmObject} says what the HSM had left. */
    public Transition<Key> destroy(Instant now, String hsmObject) {
        state.requireMoveTo(KeyState.DESTROYED);
        Key next = new Key(
                kid,
                issuerId,
                algorithm,
                partition,
                hsmHandle,
                publicJwk,
                KeyState.DESTROYED,
                createdAt,
                activatableAt,
                activatedAt,
                notAfter,
                retiredAt,
                verifyUntil,
                unpublishedAt,
                destroyAt,
                now,
                revokedAt,
                revocationReason,
                hsmMissingAt);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("previousState", state.name());
        details.put("hsmObject", hsmObject);
        return new Transition<>(next, DomainChange.announced("key.destroyed", kid, details));
    }
    /**
     * Records that a RETIRED key has left the JWKS (its verifyUntil has passed): its HSM object is then destroyed
     * destroyGrace after verifyUntil. Refused before verifyUntil and for any other state, or when already recorded.
     */
    public Transition<Key> unpublish(Instant now, IssuerPolicy policy) {
        if (state != KeyState.RETIRED || unpublishedAt != null || verifyUntil == null || now.isBefore(verifyUntil)) {
            throw new IllegalTransitionException(
                    "not-unpublishable",
                    "key " + kid + " (" + state + ", verifyUntil " + verifyUntil + ") is not due to leave the JWKS at "
                            + now);
        }
        // destroyGrace counts from verifyUntil, when the key left the JWKS, not from a late sweep.
        Instant destroy = Deadlines.destroyAt(verifyUntil, policy);
        Key next = new Key(
                kid,
                issuerId,
                algorithm,
                partition,
                hsmHandle,
                publicJwk,
                state,
                createdAt,
                activatableAt,
                activatedAt,
                notAfter,
                retiredAt,
                verifyUntil,
                now,
                destroy,
                destroyedAt,
                revokedAt,
                revocationReason,
                hsmMissingAt);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("verifyUntil", verifyUntil.toString());
        details.put("destroyAt", destroy.toString());
        return new Transition<>(next, DomainChange.announced("key.unpublished", kid, details));
    }

    /**
     * Records that the key's HSM object is gone (found by reconciliation): the key signs nothing from now on. Refused
     * for a DESTROYED key (its object is gone on purpose) and when already recorded.
     */
    public Transition<Key> hsmMissing(Instant now) {
        if (state == KeyState.DESTROYED || hsmMissingAt != null) {
            throw new IllegalTransitionException(
                    "not-markable-missing",
                    "key " + kid + " is " + state
                            + (hsmMissingAt != null ? ", already recorded missing at " + hsmMissingAt : ""));
        }
        Key next = new Key(
                kid,
                issuerId,
                algorithm,
                partition,
                hsmHandle,
                publicJwk,
                state,
                createdAt,
                activatableAt,
                activatedAt,
                notAfter,
                retiredAt,
                verifyUntil,
                unpublishedAt,
                destroyAt,
                destroyedAt,
                revokedAt,
                revocationReason,
                now);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("partition", partition);
        details.put("handle", hsmHandle);
        details.put("state", state.name());
        return new Transition<>(next, DomainChange.announced("key.hsm-missing", kid, details));
    }
}
