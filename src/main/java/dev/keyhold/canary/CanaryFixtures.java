package dev.keyhold.canary;

import dev.keyhold.config.KeyholdConfig;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import dev.keyhold.error.ProblemException;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.issuer.Issuer;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerRequest;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.key.KeyService;
import dev.keyhold.rotation.RotationService;
import dev.keyhold.security.Roles;
import dev.keyhold.store.KeyEntity;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Optional;

/**
 * The canaries' own issuers and keys, made through the ordinary services on first use and kept:
 * {@code keyhold-canary-a} and {@code keyhold-canary-b} (the {@code keyhold-canary-} prefix is reserved: do not
 * register issuers with it). Their custodians are principals that do not exist, so no key of theirs can ever be
 * approved, activated or signed for through the API; they hold only PENDING keys (published, never signing for
 * anyone) and one REVOKED key kept for ten years, all in the first issuer partition.
 */
@ApplicationScoped
public class CanaryFixtures {

    public static final String ACTOR = "keyhold-canary";
    public static final String ISSUER_A = "keyhold-canary-a";
    public static final String ISSUER_B = "keyhold-canary-b";
    /** Custodian names no principal has: nobody can approve a canary key. */
    static final String NOBODY = "keyhold-canary-nobody-";

    @Inject
    IssuerService issuers;

    @Inject
    RotationService rotations;

    @Inject
    KeyService keys;

    @Inject
    HsmPort hsm;

    @Inject
    KeyholdConfig config;

    /** The state every canary run needs. */
    public record Fixture(Issuer a, Issuer b, Key pendingOfA, Key revokedOfA) {}

    public Fixture ensure() {
        Issuer a = issuer(ISSUER_A);
        Issuer b = issuer(ISSUER_B);
        Key revoked = newest(ISSUER_A, KeyState.REVOKED).orElse(null);
        if (revoked == null) {
            String kid = pending(ISSUER_A).kid();
            keys.revoke(
                    kid, new KeyService.RevokeRequest("canary fixture: a revoked key must never verify"), identity());
            revoked = newest(ISSUER_A, KeyState.REVOKED).orElseThrow();
        }
        return new Fixture(a, b, pending(ISSUER_A), revoked);
    }

    private Issuer issuer(String id) {
        Optional<Issuer> existing = find(id);
        if (existing.isEmpty()) {
            try {
                issuers.create(request(id), ACTOR);
            } catch (ProblemException raced) {
                // Another instance created it first (409): read what is there.
            }
            existing = find(id);
        }
        Issuer i =
                existing.orElseThrow(() -> new IllegalStateException("canary issuer " + id + " could not be created"));
        // Refuse to forge with an issuer that is not ours (someone registered the reserved id by hand).
        if (!i.issuerUri().equals(uri(id))
                || !i.custodians().stream().allMatch(c -> c.startsWith(NOBODY))
                || !i.signers().isEmpty()) {
            throw new IllegalStateException("issuer " + id + " exists but is not a canary issuer");
        }
        return i;
    }

    private Key pending(String issuerId) {
        return newest(issuerId, KeyState.PENDING).orElseGet(() -> {
            rotations.rotate(issuerId, ACTOR, "canary fixture");
            return newest(issuerId, KeyState.PENDING).orElseThrow();
        });
    }

    private static Optional<Issuer> find(String id) {
        return QuarkusTransaction.requiringNew()
                .call(() -> Optional.ofNullable(IssuerEntity.<IssuerEntity>findById(id))
                        .map(IssuerEntity::toIssuer));
    }

    private static Optional<Key> newest(String issuerId, KeyState state) {
        return QuarkusTransaction.requiringNew()
                .call(() -> KeyEntity.<KeyEntity>find(
                                "issuerId = ?1 and state = ?2 order by createdAt desc", issuerId, state)
                        .firstResultOptional()
                        .map(KeyEntity::toKey));
    }

    private IssuerRequest request(String id) {
        String partition = hsm.partitions().stream()
                .filter(p -> !p.equals(config.audit().partition()))
                .sorted((x, y) -> x.equals("default") ? -1 : y.equals("default") ? 1 : x.compareTo(y))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no HSM partition for the canary issuers"));
        int m = Math.max(2, config.policy().minApprovals());
        List<String> custodians = java.util.stream.IntStream.rangeClosed(1, m)
                .mapToObj(n -> NOBODY + n)
                .toList();
        return new IssuerRequest(
                id,
                uri(id),
                partition,
                "ES256",
                List.of(audience(id)),
                custodians,
                m,
                List.of(),
                null,
                null,
                null,
                null,
                "P3650D",
                null,
                null,
                null);
    }

    static String audience(String id) {
        return "urn:keyhold:canary:" + id;
    }

    static String uri(String id) {
        return "https://canary.keyhold.invalid/" + id;
    }

    private static QuarkusSecurityIdentity identity() {
        return QuarkusSecurityIdentity.builder()
                .setPrincipal(new QuarkusPrincipal(ACTOR))
                .addRole(Roles.ADMIN)
                .build();
    }
}
