package dev.keyhold.activation;

import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.key.KeyEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

@ApplicationScoped
public class ActivationService {

    @Inject
    ChangeRecorder recorder;
    @Inject
    Clock clock;

    /** Opens the activation request of a PENDING key. Caller holds the issuer lock. */
    @Transactional(Transactional.TxType.MANDATORY)
    public ActivationRequestEntity openForKey(IssuerEntity issuer, KeyEntity key, String requester, String reason) {
        Instant now = clock.instant();
        ActivationRequestEntity r = new ActivationRequestEntity();
        r.id = UUID.randomUUID();
        r.kind = ActivationKind.KEY_ACTIVATION;
        r.issuerId = issuer.id;
        r.kid = key.kid;
        r.requester = requester;
        r.reason = reason;
        r.state = ActivationState.OPEN;
        r.approvalsRequired = issuer.approvalsRequired;
        r.createdAt = now;
        r.expiresAt = now.plusSeconds(issuer.approvalTtlSeconds);
        r.persist();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("requestId", r.id.toString());
        details.put("kind", r.kind.name());
        details.put("approvalsRequired", r.approvalsRequired);
        details.put("expiresAt", r.expiresAt.toString());
        recorder.record(Change.announced("activation.requested", requester, issuer.id, key.kid, details));
        return r;
    }

    /**
     * The live request of a PENDING key; a request left OPEN past its expiry is closed as EXPIRED first, and a
     * fresh one opened when none is live (after a rejection or expiry the same key can be put to custodians again).
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public ActivationRequestEntity liveOrReopen(IssuerEntity issuer, KeyEntity key, String requester, String reason) {
        ActivationRequestEntity live = ActivationRequestEntity.liveForKey(key.kid).orElse(null);
        if (live != null && live.state == ActivationState.OPEN && !clock.instant().isBefore(live.expiresAt)) {
            expire(live, "keyhold");
            live = null;
        }
        return live != null ? live : openForKey(issuer, key, requester, reason);
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public void expire(ActivationRequestEntity r, String actor) {
        r.state = ActivationState.EXPIRED;
        r.decidedAt = clock.instant();
        recorder.record(Change.announced("activation.expired", actor, r.issuerId, r.kid,
                Map.of("requestId", r.id.toString())));
    }

    /** Closes the live request of a key that was revoked: it can never be carried out. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void cancelForKey(String kid, String actor) {
        ActivationRequestEntity.liveForKey(kid).ifPresent(r -> {
            r.state = ActivationState.CANCELLED;
            r.decidedAt = clock.instant();
            recorder.record(Change.auditOnly("activation.cancelled", actor, Change.SUCCESS, r.issuerId, r.kid,
                    Map.of("requestId", r.id.toString(), "why", "key revoked")));
        });
    }
}
