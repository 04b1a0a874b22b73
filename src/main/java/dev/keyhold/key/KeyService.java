package dev.keyhold.key;

import dev.keyhold.activation.ActivationService;
import dev.keyhold.command.LifecycleCommands;
import dev.keyhold.error.ProblemException;
import dev.keyhold.error.ValidationException;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.security.IssuerAccess;
import dev.keyhold.store.ActivationRequestEntity;
import dev.keyhold.store.KeyEntity;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;

@ApplicationScoped
public class KeyService {

    /** RFC 7638 SHA-256 thumbprints are 43 base64url characters. */
    static final Pattern KID = Pattern.compile("[A-Za-z0-9_-]{43}");

    @Inject
    IssuerService issuers;

    @Inject
    IssuerAccess access;

    @Inject
    ActivationService activations;

    @Inject
    LifecycleCommands commands;

    @Inject
    Clock clock;

    @Transactional
    public List<KeyView> ofIssuer(String issuerId) {
        issuers.require(issuerId);
        return KeyEntity.ofIssuer(issuerId).stream()
                .map(k -> KeyView.of(k.toKey(), liveRequest(k.kid)))
                .toList();
    }

    @Transactional
    public KeyView get(String kid) {
        return KeyView.of(require(kid).toKey(), liveRequest(kid));
    }

    /**
     * Several keys in one query, for listings (the console's request cards): their {@code activationRequestId} is
     * not filled in; unknown kids are absent.
     */
    @Transactional
    public java.util.Map<String, KeyView> getAll(java.util.Collection<String> kids) {
        if (kids.isEmpty()) {
            return java.util.Map.of();
        }
        java.util.Map<String, KeyView> views = new java.util.HashMap<>();
        KeyEntity.<KeyEntity>list("kid in ?1", List.copyOf(kids))
                .forEach(k -> views.put(k.kid, KeyView.of(k.toKey(), null)));
        return views;
    }

    @Transactional
    public KeyView revoke(String kid, RevokeRequest request, SecurityIdentity who) {
        String reason = request == null ? null : request.reason();
        if (reason == null || reason.isBlank() || reason.length() > 500) {
            throw new ValidationException(
                    List.of(new ValidationException.FieldError("reason", "required, 1 to 500 characters")));
        }
        // Only the issuer id is read before locking: a key entity loaded here would fail the lock's version check
        // (as a stale object) whenever a concurrent activation changed it in between.
        String issuerId = kid != null && KID.matcher(kid).matches()
                ? KeyEntity.getEntityManager()
                        .createQuery("select k.issuerId from KeyEntity k where k.kid = ?1", String.class)
                        .setParameter(1, kid)
                        .getResultStream()
                        .findFirst()
                        .orElse(null)
                : null;
        if (issuerId == null) {
            throw ProblemException.notFound("key", kid);
        }
        // Lock order everywhere: issuer row, then key row.
        IssuerEntity issuer = issuers.lock(issuerId);
        access.requireCustodianOrAdmin(issuer.toIssuer(), who);
        KeyEntity k = KeyEntity.lockByKid(kid).orElseThrow();
        Instant now = clock.instant();
        var revoked = k.toKey().revoke(now, issuer.policy(), reason);
        String actor = who.getPrincipal().getName();
        activations.cancelForKey(issuer, kid, actor);
        commands.apply(issuer, k, revoked, actor);
        return KeyView.of(k.toKey(), null);
    }

    KeyEntity require(String kid) {
        KeyEntity k = kid != null && KID.matcher(kid).matches() ? KeyEntity.findById(kid) : null;
        if (k == null) {
            throw ProblemException.notFound("key", kid);
        }
        return k;
    }

    private static String liveRequest(String kid) {
        return ActivationRequestEntity.liveForKey(kid).map(r -> r.id.toString()).orElse(null);
    }

    public record RevokeRequest(String reason) {}
}
