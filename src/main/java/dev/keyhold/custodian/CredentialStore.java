package dev.keyhold.custodian;

import dev.keyhold.audit.SqlTime;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.Tuple;
import jakarta.transaction.Transactional;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * {@code custodian_challenge} and {@code custodian_credential}: enrollment challenges and sealed credential rows. The
 * only class with SQL for those tables; {@link Credentials} decides what is written and checks the seals of what is
 * read. Every method joins the caller's transaction; none calls the HSM.
 */
@ApplicationScoped
public class CredentialStore {

    @Inject
    EntityManager em;

    /** An open enrollment challenge: its id and the text the credential signs. */
    public record OpenChallenge(UUID id, String challenge) {}

    // ------------------------------------------------------------------------------------------------ challenges

    /** The principal's challenges neither used nor expired at {@code now}, of any purpose. */
    public long openChallenges(String principal, Instant now) {
        Tuple t = (Tuple) em.createNativeQuery(
                        "select count(*) as n from custodian_challenge where principal = ?1"
                                + " and used_at is null and expires_at > ?2",
                        Tuple.class)
                .setParameter(1, principal)
                .setParameter(2, Timestamp.from(now))
                .getSingleResult();
        return t.get("n", Number.class).longValue();
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public void insertEnrollChallenge(
            UUID id, String principal, String challenge, Instant createdAt, Instant expiresAt) {
        em.createNativeQuery(
                        "insert into custodian_challenge (id, principal, purpose, challenge, created_at, expires_at)"
                                + " values (?1, ?2, 'enroll', ?3, ?4, ?5)")
                .setParameter(1, id)
                .setParameter(2, principal)
                .setParameter(3, challenge)
                .setParameter(4, Timestamp.from(createdAt))
                .setParameter(5, Timestamp.from(expiresAt))
                .executeUpdate();
    }

    /**
     * The principal's open enrollment challenges at {@code now}, newest first, their rows locked until the caller's
     * transaction ends.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public List<OpenChallenge> lockOpenEnrollChallenges(String principal, Instant now) {
        @SuppressWarnings("unchecked")
        List<Tuple> rows = em.createNativeQuery(
                        "select id, challenge from custodian_challenge where principal = ?1"
                                + " and purpose = 'enroll' and used_at is null and expires_at > ?2"
                                + " order by created_at desc for update",
                        Tuple.class)
                .setParameter(1, principal)
                .setParameter(2, Timestamp.from(now))
                .getResultList();
        return rows.stream().map(CredentialStore::openChallenge).toList();
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public void markChallengeUsed(UUID id, Instant usedAt) {
        em.createNativeQuery("update custodian_challenge set used_at = ?1 where id = ?2")
                .setParameter(1, Timestamp.from(usedAt))
                .setParameter(2, id)
                .executeUpdate();
    }

    // ------------------------------------------------------------------------------------------------ credentials

    /** Whether a credential row with this id exists, sealed or not. */
    public boolean credentialExists(String id) {
        return !em.createNativeQuery("select id from custodian_credential where id = ?1", Tuple.class)
                .setParameter(1, id)
                .getResultList()
                .isEmpty();
    }

    /** Stores {@code c} as enrolled by {@code principal} at {@code enrolledAt} with its seal {@code seal}. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void insertCredential(Credentials.Credential c, String principal, Instant enrolledAt, String seal) {
        em.createNativeQuery("insert into custodian_credential (id, principal, format, public_key, credential_id,"
                        + " algorithm, enrolled_at, seal) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
                .setParameter(1, c.id())
                .setParameter(2, principal)
                .setParameter(3, c.format())
                .setParameter(4, c.publicKey())
                .setParameter(5, c.credentialId())
                .setParameter(6, c.algorithm())
                .setParameter(7, Timestamp.from(enrolledAt))
                .setParameter(8, seal)
                .executeUpdate();
    }

    /** All credential rows of the principal, sealed or not, oldest first. */
    public List<Credentials.Credential> credentialsOf(String principal) {
        @SuppressWarnings("unchecked")
        List<Tuple> rows = em.createNativeQuery(
                        "select id, principal, format, public_key, credential_id, algorithm, enrolled_at, seal"
                                + " from custodian_credential where principal = ?1 order by enrolled_at, id",
                        Tuple.class)
                .setParameter(1, principal)
                .getResultList();
        List<Credentials.Credential> out = new ArrayList<>(rows.size());
        for (Tuple t : rows) {
            out.add(credential(t));
        }
        return out;
    }

    private static OpenChallenge openChallenge(Tuple t) {
        return new OpenChallenge(t.get("id", UUID.class), t.get("challenge", String.class));
    }

    private static Credentials.Credential credential(Tuple t) {
        return new Credentials.Credential(
                t.get("id", String.class),
                t.get("principal", String.class),
                t.get("format", String.class),
                t.get("public_key", String.class),
                t.get("credential_id", String.class),
                t.get("algorithm", String.class),
                SqlTime.instant(t.get("enrolled_at")),
                t.get("seal", String.class));
    }
}
