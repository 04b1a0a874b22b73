package dev.keyhold.store;

import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import dev.keyhold.domain.SigningAlgorithm;
import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.LockModeType;
import jakarta.persistence.Table;
import jakarta.persistence.Version;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

@Entity
@Table(name = "signing_key")
public class KeyEntity extends PanacheEntityBase {

    @Id
    public String kid;

    @Column(name = "issuer_id")
    public String issuerId;

    @Enumerated(EnumType.STRING)
    public SigningAlgorithm algorithm;

    @Column(name = "partition_name")
    public String partition;

    @Column(name = "hsm_handle")
    public String hsmHandle;

    @Column(name = "public_jwk")
    public String publicJwk;

    @Enumerated(EnumType.STRING)
    public KeyState state;

    @Column(name = "created_at")
    public Instant createdAt;

    @Column(name = "activatable_at")
    public Instant activatableAt;

    @Column(name = "activated_at")
    public Instant activatedAt;

    @Column(name = "not_after")
    public Instant notAfter;

    @Column(name = "retired_at")
    public Instant retiredAt;

    @Column(name = "verify_until")
    public Instant verifyUntil;

    @Column(name = "unpublished_at")
    public Instant unpublishedAt;

    @Column(name = "destroy_at")
    public Instant destroyAt;

    @Column(name = "destroyed_at")
    public Instant destroyedAt;

    @Column(name = "revoked_at")
    public Instant revokedAt;

    @Column(name = "revocation_reason")
    public String revocationReason;

    @Column(name = "overdue_notified_at")
    public Instant overdueNotifiedAt;

    @Column(name = "hsm_missing_at")
    public Instant hsmMissingAt;

    @Version
    public long version;

    public static Optional<KeyEntity> findByKid(String kid) {
        return findByIdOptional(kid);
    }

    public static Optional<KeyEntity> lockByKid(String kid) {
        return findByIdOptional(kid, LockModeType.PESSIMISTIC_WRITE);
    }

    public static List<KeyEntity> ofIssuer(String issuerId) {
        return list("issuerId = ?1 order by createdAt desc", issuerId);
    }

    public static Optional<KeyEntity> inState(String issuerId, KeyState state) {
        return find("issuerId = ?1 and state = ?2", issuerId, state).firstResultOptional();
    }

    /** A new row holding {@code k} (a created key), to be persisted. */
    public static KeyEntity of(Key k) {
        KeyEntity e = new KeyEntity();
        e.kid = k.kid();
        e.issuerId = k.issuerId();
        e.algorithm = k.algorithm();
        e.partition = k.partition();
        e.hsmHandle = k.hsmHandle();
        e.publicJwk = k.publicJwk();
        e.createdAt = k.createdAt();
        e.activatableAt = k.activatableAt();
        e.apply(k);
        return e;
    }

    /** Takes the state and timestamps of a transition's new value (the identity fields never change). */
    public void apply(Key k) {
        state = k.state();
        activatedAt = k.activatedAt();
        notAfter = k.notAfter();
        retiredAt = k.retiredAt();
        verifyUntil = k.verifyUntil();
        unpublishedAt = k.unpublishedAt();
        destroyAt = k.destroyAt();
        destroyedAt = k.destroyedAt();
        revokedAt = k.revokedAt();
        revocationReason = k.revocationReason();
        hsmMissingAt = k.hsmMissingAt();
    }

    public Key toKey() {
        return new Key(
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
                hsmMissingAt);
    }
}
