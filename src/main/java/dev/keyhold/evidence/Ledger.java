package dev.keyhold.evidence;

import dev.keyhold.config.NodeName;
import dev.keyhold.error.ProblemException;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The application's issuance ledger ({@link IssuanceLedger} on the application's connection pool). The sign path
 * calls {@link #record} after the HSM signature and before handing the token out.
 */
@ApplicationScoped
public class Ledger {

    @Inject
    AgroalDataSource ds;

    @Inject
    Clock clock;

    @Inject
    NodeName node;

    @Inject
    EvidenceConfig config;

    @Inject
    MeterRegistry registry;

    private volatile IssuanceLedger ledger;

    IssuanceLedger ledger() {
        IssuanceLedger l = ledger;
        if (l == null) {
            synchronized (this) {
                if (ledger == null) {
                    EvidenceConfig.Ledger c = config.ledger();
                    ledger = IssuanceLedger.start(
                            ds::getConnection,
                            clock,
                            new IssuanceLedger.Settings(
                                    c.linger(), c.maxBatch(), c.maxPending(), c.writeTimeout(), node.get()));
                    meters(ledger);
                }
                l = ledger;
            }
        }
        return l;
    }

    /**
     * Records a token that is about to be handed out: returns when its batch is durable (or at once when
     * {@code bestEffort}); 503 {@code ledger-unavailable} when it cannot be recorded in time — the token must then
     * not be handed out.
     */
    public void record(
            String token,
            String jti,
            String kid,
            String issuerId,
            String sub,
            String aud,
            long iat,
            long exp,
            boolean bestEffort) {
        try {
            ledger().record(entry(token, jti, kid, issuerId, sub, aud, iat, exp), bestEffort);
        } catch (IssuanceLedger.LedgerUnavailableException u) {
            throw refused(issuerId, u);
        }
    }

    /**
     * Announces a signature about to be made, so the ledger's group commit waits for its entry (a lone signature
     * is not kept waiting for others). Close it if the signature fails; else pass it to {@link #recordAsync}.
     */
    public IssuanceLedger.Expected expect() {
        return ledger().expect();
    }

    /**
     * As {@link #record} without blocking: the future completes when the token may be handed out, or fails with the
     * 503 {@code ledger-unavailable} problem. It completes on the ledger's writer thread (or at once).
     */
    public CompletableFuture<Void> recordAsync(
            IssuanceLedger.Expected expected,
            String token,
            String jti,
            String kid,
            String issuerId,
            String sub,
            String aud,
            long iat,
            long exp,
            boolean bestEffort) {
        CompletableFuture<Void> out = new CompletableFuture<>();
        expected.record(entry(token, jti, kid, issuerId, sub, aud, iat, exp), bestEffort)
                .whenComplete((ok, e) -> {
                    if (e == null) {
                        out.complete(null);
                    } else {
                        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                        out.completeExceptionally(
                                c instanceof IssuanceLedger.LedgerUnavailableException u ? refused(issuerId, u) : c);
                    }
                });
        return out;
    }

    private static LedgerEntry entry(
            String token, String jti, String kid, String issuerId, String sub, String aud, long iat, long exp) {
        return new LedgerEntry(
                LedgerHash.sha256(token.getBytes(StandardCharsets.US_ASCII)), jti, kid, issuerId, sub, aud, iat, exp);
    }

    private ProblemException refused(String issuerId, IssuanceLedger.LedgerUnavailableException u) {
        registry.counter("keyhold.signing.refusals", "issuer", issuerId, "reason", "ledger")
                .increment();
        return ProblemException.unavailable(
                "ledger-unavailable",
                "the token could not be recorded in the issuance" + " ledger, so it is not handed out: "
                        + u.getMessage());
    }

    LedgerPartitions partitions() {
        return ledger().partitions();
    }

    private void meters(IssuanceLedger l) {
        Gauge.builder("keyhold.ledger.pending", l, IssuanceLedger::pending)
                .description("tokens waiting for their ledger batch")
                .register(registry);
        FunctionCounter.builder("keyhold.ledger.batches", l, IssuanceLedger::batchesWritten)
                .description("ledger batches committed")
                .register(registry);
        FunctionCounter.builder("keyhold.ledger.tokens", l, IssuanceLedger::tokensWritten)
                .description("tokens recorded in the ledger")
                .register(registry);
        FunctionCounter.builder("keyhold.ledger.lost", l, IssuanceLedger::lost)
                .description("best-effort tokens handed out but never recorded")
                .register(registry);
        FunctionCounter.builder("keyhold.ledger.write.failures", l, IssuanceLedger::failures)
                .description("failed ledger batch writes (retried)")
                .register(registry);
        FunctionCounter.builder("keyhold.ledger.head.rereads", l, IssuanceLedger::headRereads)
                .description("batches recomputed because another instance had moved the chain head")
                .register(registry);
    }

    @PreDestroy
    void close() {
        IssuanceLedger l = ledger;
        if (l != null) {
            l.close();
        }
    }
}
