package dev.keyhold.issuer;

import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.domain.Deadlines;
import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import dev.keyhold.error.ProblemException;
import dev.keyhold.store.KeyEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@ApplicationScoped
public class IssuerService {

    @Inject
    IssuerValidator validator;

    @Inject
    ChangeRecorder recorder;

    @Inject
    Clock clock;

    @Inject
    jakarta.enterprise.event.Event<IssuerCreated> created;

    @Transactional
    public IssuerView create(IssuerRequest request, String actor) {
        IssuerValidator.Valid v = validator.validate(request);
        if (IssuerEntity.findById(v.id()) != null) {
            throw ProblemException.conflict("issuer-exists", "issuer '" + v.id() + "' already exists");
        }
        // Two issuers sharing an iss value would let one's keys vouch for the other's tokens.
        if (IssuerEntity.count("issuerUri", v.issuerUri()) > 0) {
            throw ProblemException.conflict(
                    "issuer-uri-taken", "another issuer already uses issuerUri " + v.issuerUri());
        }
        Instant now = clock.instant();
        IssuerEntity e = new IssuerEntity();
        e.id = v.id();
        e.issuerUri = v.issuerUri();
        e.partition = v.partition();
        e.algorithm = v.algorithm();
        e.audiences = v.audiences();
        e.custodians = v.custodians();
        e.approvalsRequired = v.approvalsRequired();
        e.signers = v.signers();
        e.applyPolicy(v.policy());
        e.suspendOnCompromise = v.evidence().suspendOnCompromise();
        e.ledgerBestEffort = v.evidence().ledgerBestEffort();
        e.status = IssuerStatus.ACTIVE;
        e.createdAt = now;
        e.updatedAt = now;
        e.persist();
        IssuerEntity.getEntityManager().flush();
        // Policy version 1 (policy/PolicyChain), sealed by the HSM: the custodians named now, with their credentials.
        created.fire(new IssuerCreated(e));
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("issuerUri", e.issuerUri);
        details.put("partition", e.partition);
        details.put("algorithm", e.algorithm.name());
        details.put("custodians", e.custodians);
        details.put("approvalsRequired", e.approvalsRequired);
        details.put("suspendOnCompromise", e.suspendOnCompromise);
        details.put("ledgerBestEffort", e.ledgerBestEffort);
        recorder.record(Change.announced("issuer.created", actor, e.id, null, details));
        return view(e.toIssuer());
    }

    @Transactional
    public List<IssuerView> list() {
        // Two queries whatever the number of issuers: the listing must not cost one key query per issuer.
        Map<String, List<Key>> live = new java.util.HashMap<>();
        KeyEntity.<KeyEntity>list("state in ?1 order by createdAt desc", List.of(KeyState.ACTIVE, KeyState.PENDING))
                .forEach(k -> live.computeIfAbsent(k.issuerId, x -> new java.util.ArrayList<>())
                        .add(k.toKey()));
        return IssuerEntity.<IssuerEntity>listAll(io.quarkus.panache.common.Sort.by("id")).stream()
                .map(e -> view(e.toIssuer(), live.getOrDefault(e.id, List.of())))
                .toList();
    }

    @Transactional
    public IssuerView get(String id) {
        return view(require(id));
    }

    /** The issuer, or 404. */
    @Transactional
    public Issuer require(String id) {
        return requireEntity(id).toIssuer();
    }

    /** The issuer's row, not locked, or 404. */
    @Transactional(Transactional.TxType.MANDATORY)
    public IssuerEntity entity(String id) {
        return requireEntity(id);
    }

    /** The issuer's row, locked until the transaction ends: serialises changes per issuer. */
    @Transactional(Transactional.TxType.MANDATORY)
    public IssuerEntity lock(String id) {
        IssuerEntity e = validId(id) ? IssuerEntity.findById(id, LockModeType.PESSIMISTIC_WRITE) : null;
        if (e == null) {
            throw ProblemException.notFound("issuer", id);
        }
        return e;
    }

    IssuerEntity requireEntity(String id) {
        IssuerEntity e = validId(id) ? IssuerEntity.findById(id) : null;
        if (e == null) {
            throw ProblemException.notFound("issuer", id);
        }
        return e;
    }

    public IssuerView view(Issuer issuer) {
        return view(
                issuer,
                KeyEntity.ofIssuer(issuer.id()).stream().map(KeyEntity::toKey).toList());
    }

    /** The view from the issuer's keys, newest first (only ACTIVE and PENDING ones matter). */
    private IssuerView view(Issuer issuer, List<Key> keys) {
        Instant now = clock.instant();
        Key active = keys.stream()
                .filter(k -> k.state() == KeyState.ACTIVE)
                .findFirst()
                .orElse(null);
        Instant due = active == null ? null : Deadlines.rotationDue(active.activatedAt(), issuer.policy());
        boolean overdue = due != null && !now.isBefore(due);
        List<String> awaiting = keys.stream()
                .filter(k -> k.state() == KeyState.PENDING)
                .map(Key::kid)
                .toList();
        return IssuerView.of(issuer, active == null ? null : active.kid(), due, overdue, awaiting);
    }

    static boolean validId(String id) {
        return id != null && IssuerValidator.SLUG.matcher(id).matches();
    }
}
