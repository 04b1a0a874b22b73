package dev.keyhold.domain;

import dev.keyhold.hsm.SigningAlgorithm;

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
public record Key(String kid, String issuerId, SigningAlgorithm algorithm, String partition, String hsmHandle,
                  String publicJwk, KeyState state, Instant createdAt, Instant activatableAt, Instant activatedAt,
                  Instant notAfter, Instant retiredAt, Instant verifyUntil, Instant unpublishedAt, Instant destroyAt,
                  Instant destroyedAt, Instant revokedAt, String revocationReason, Instant hsmMissingAt) {

    /** PENDING → ACTIVE at {@code now}: signs until {@code notAfter}; never before {@code activatableAt}. */
    public Transition<Key> activate(Instant now, IssuerPolicy policy, String requestId) {
        state.requireMoveTo(KeyState.ACTIVE);
        if (now.isBefore(activatableAt)) {
            throw new IllegalTransitionException("not-yet-activatable",
                    "key " + kid + " cannot be activated before its activatableAt " + activatableAt);
        }
        Instant until = Deadlines.notAfter(now, policy);
        Key next = new Key(kid, issuerId, algorithm, partition, hsmHandle, publicJwk, KeyState.ACTIVE, createdAt,
                activatableAt, now, until, retiredAt, verifyUntil, unpublishedAt, destroyAt, destroyedAt, revokedAt,
                revocationReason, hsmMissingAt);
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
        Key next = new Key(kid, issuerId, algorithm, partition, hsmHandle, publicJwk, KeyState.RETIRED, createdAt,
                activatableAt, activatedAt, notAfter, at, until, unpublishedAt, destroyAt, destroyedAt, revokedAt,
                revocationReason, hsmMissingAt);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("why", why);
        details.put("verifyUntil", until.toString());
        return new Transition<>(next, DomainChange.announced("key.retired", kid, details));
    }

    /** PENDING, ACTIVE or RETIRED → REVOKED at {@code now}: out of the JWKS at once, destroyed after destroyGrace. */
    public Transition<Key> revoke(Instant now, IssuerPolicy policy, String reason) {
        state.requireMoveTo(KeyState.REVOKED);
        Instant destroy = Deadlines.destroyAt(now, policy);
        Key next = new Key(kid, issuerId, algorithm, partition, hsmHandle, publicJwk, KeyState.REVOKED, createdAt,
                activatableAt, activatedAt, notAfter, retiredAt, verifyUntil, unpublishedAt, destroy, destroyedAt, now,
                reason, hsmMissingAt);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("reason", reason);
        details.put("previousState", state.name());
        details.put("destroyAt", destroy.toString());
        return new Transition<>(next, DomainChange.announced("key.revoked", kid, details));
    }

    /** RETIRED or REVOKED → DESTROYED at {@code now}; {@code hsmObject} says what the HSM had left. */
    public Transition<Key> destroy(Instant now, String hsmObject) {
        state.requireMoveTo(KeyState.DESTROYED);
        Key next = new Key(kid, issuerId, algorithm, partition, hsmHandle, publicJwk, KeyState.DESTROYED, createdAt,
                activatableAt, activatedAt, notAfter, retiredAt, verifyUntil, unpublishedAt, destroyAt, now, revokedAt,
                revocationReason, hsmMissingAt);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("previousState", state.name());
        details.put("hsmObject", hsmObject);
        return new Transition<>(next, DomainChange.announced("key.destroyed", kid, details));
    }
}
