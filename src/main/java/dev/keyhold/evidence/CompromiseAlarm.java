package dev.keyhold.evidence;

import dev.keyhold.activation.KillSwitch;
import dev.keyhold.audit.Change;
import dev.keyhold.audit.ChangeRecorder;
import dev.keyhold.issuer.IssuerEntity;
import dev.keyhold.issuer.IssuerService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code keyhold.key.compromise-suspected}: a token that verifies under a Keyhold key but that the ledger does not
 * hold. Raised once per token (later reports of the same token only count), with its audit record and outbox event
 * in one transaction, and, when the issuer's policy says {@code suspendOnCompromise}, the issuer's kill switch in
 * the same transaction (resume is M-of-N as always).
 */
@ApplicationScoped
public class CompromiseAlarm {

    static final String EVENT_ACTION = "key.compromise-suspected";
    static final String SYSTEM_ACTOR = "keyhold";

    @Inject
    IssuerService issuers;

    @Inject
    KillSwitch killSwitch;

    @Inject
    ChangeRecorder recorder;

    @Inject
    CompromiseReportStore reports;

    @Inject
    Clock clock;

    public record Raised(boolean raised, boolean suspended) {}

    @Transactional
    public Raised raise(TokenFinding forged, String reporter) {
        // The issuer row first, as every issuer change takes it before the audit chain's lock.
        IssuerEntity issuer = issuers.lock(forged.issuer());
        byte[] hash = HexFormat.of().parseHex(forged.sha256());
        if (!reports.report(hash, forged.issuer(), forged.kid(), clock.instant(), reporter)) {
            return new Raised(false, false);
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("tokenSha256", forged.sha256());
        details.put("jti", forged.jti());
        details.put("iat", forged.iat());
        details.put("exp", forged.exp());
        details.put("reporter", reporter);
        details.put("suspendOnCompromise", issuer.suspendOnCompromise);
        // A best-effort issuer can hand out a token the ledger then lost (docs/evidence.md): say so in the alarm.
        details.put("ledgerBestEffort", issuer.ledgerBestEffort);
        recorder.record(Change.announced(EVENT_ACTION, reporter, issuer.id, forged.kid(), details));
        boolean suspended = issuer.suspendOnCompromise
                && killSwitch.suspendBySystem(
                        issuer.id,
                        SYSTEM_ACTOR,
                        "compromise suspected: key " + forged.kid() + " signed a token Keyhold never issued (sha256 "
                                + forged.sha256() + ", reported by " + reporter + ")");
        return new Raised(true, suspended);
    }
}
