package dev.keyhold.evidence;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.keyhold.error.ValidationException;
import dev.keyhold.error.ValidationException.FieldError;
import dev.keyhold.ratelimit.RateLimitedException;
import dev.keyhold.ratelimit.TokenBuckets;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Validators' reports ({@code POST /v1/evidence/reports}): tokens they rejected (the token, or only its SHA-256 and
 * header) and a sample of tokens they accepted. Each is judged like an auditor's lookup; a {@code forged} one raises
 * the alarm. Reports are rate-limited per principal, and nothing a validator sends can raise an alarm unless it is
 * a token whose signature verifies under a Keyhold key: junk is judged {@code not_keyhold} or {@code malformed}.
 */
@ApplicationScoped
public class EvidenceReports {

    public static final String MALFORMED = "malformed";

    @Inject
    EvidenceLookup lookup;

    @Inject
    CompromiseAlarm alarm;

    @Inject
    Clock clock;

    @Inject
    MeterRegistry registry;

    private final TokenBuckets perPrincipal;
    private final int maxTokens;

    @Inject
    public EvidenceReports(EvidenceConfig config) {
        this.perPrincipal = new TokenBuckets(config.reports().perPrincipal());
        this.maxTokens = config.reports().maxTokens();
    }

    /** One reported token: {@code token}, or {@code sha256} (hex or base64url) with the token's {@code header}. */
    public record Item(String token, String sha256, Map<String, Object> header, String reason) {}

    public record Report(List<Item> rejected, List<Item> accepted) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Finding(String list, int index, String judgement, String kid, String issuer, Boolean alarm) {}

    public record Result(int received, int alarms, List<String> suspendedIssuers, List<Finding> findings) {}

    public Result report(Report report, String principal) {
        Instant now = clock.instant();
        long wait = perPrincipal.tryTake(principal, now.getEpochSecond() * 1_000_000_000L + now.getNano());
        if (wait > 0) {
            registry.counter("keyhold.evidence.reports", "outcome", "rate-limited")
                    .increment();
            throw new RateLimitedException("report rate limit of principal '" + principal + "' exceeded", wait);
        }
        List<Item> rejected = report == null || report.rejected() == null ? List.of() : report.rejected();
        List<Item> accepted = report == null || report.accepted() == null ? List.of() : report.accepted();
        if (rejected.size() + accepted.size() == 0 || rejected.size() + accepted.size() > maxTokens) {
            throw new ValidationException(List.of(new FieldError(
                    "rejected", "rejected and accepted together must hold" + " 1 to " + maxTokens + " tokens")));
        }
        registry.counter("keyhold.evidence.reports", "outcome", "received").increment();
        List<EvidenceLookup.Item> items = new ArrayList<>();
        List<String> lists = new ArrayList<>();
        List<Integer> indexes = new ArrayList<>();
        List<Finding> findings = new ArrayList<>();
        collect("rejected", rejected, items, lists, indexes, findings, true);
        collect("accepted", accepted, items, lists, indexes, findings, false);
        List<TokenFinding> judged = lookup.judge(items);
        int alarms = 0;
        List<String> suspended = new ArrayList<>();
        for (int i = 0; i < judged.size(); i++) {
            TokenFinding f = judged.get(i);
            Boolean raised = null;
            if (TokenFinding.FORGED.equals(f.judgement())) {
                CompromiseAlarm.Raised r = alarm.raise(f, principal);
                raised = r.raised();
                if (r.raised()) {
                    alarms++;
                    registry.counter("keyhold.evidence.compromise.suspected", "issuer", f.issuer())
                            .increment();
                }
                if (r.suspended()) {
                    suspended.add(f.issuer());
                }
            }
            registry.counter("keyhold.evidence.reported.tokens", "judgement", f.judgement())
                    .increment();
            findings.add(new Finding(lists.get(i), indexes.get(i), f.judgement(), f.kid(), f.issuer(), raised));
        }
        findings.sort((a, b) -> a.list().equals(b.list())
                ? Integer.compare(a.index(), b.index())
                : a.list().equals("rejected") ? -1 : 1);
        return new Result(rejected.size() + accepted.size(), alarms, suspended, findings);
    }

    /** Items to judge; an item that is neither a token nor a hash is {@code malformed} at once. */
    private static void collect(
            String list,
            List<Item> in,
            List<EvidenceLookup.Item> items,
            List<String> lists,
            List<Integer> indexes,
            List<Finding> findings,
            boolean hashAllowed) {
        for (int i = 0; i < in.size(); i++) {
            Item it = in.get(i);
            EvidenceLookup.Item judged = null;
            if (it != null && it.token() != null && it.sha256() == null) {
                judged = new EvidenceLookup.Item(it.token(), null);
            } else if (it != null
                    && it.token() == null
                    && hashAllowed
                    && EvidenceLookup.normalisedHash(it.sha256()) != null) {
                judged = new EvidenceLookup.Item(null, it.sha256());
            }
            if (judged == null) {
                findings.add(new Finding(list, i, MALFORMED, null, null, null));
            } else {
                items.add(judged);
                lists.add(list);
                indexes.add(i);
            }
        }
    }
}
