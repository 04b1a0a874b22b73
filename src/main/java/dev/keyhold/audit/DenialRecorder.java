package dev.keyhold.audit;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.security.identity.CurrentIdentityAssociation;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Audits refused privileged attempts (SPEC: 403s on /v1, wrong custodian, self-approval) with outcome
 * {@code denied}, each in its own transaction so the record survives the rollback of the refused work.
 *
 * <p>Every 403 problem on {@code /v1} is recorded by {@link #requestDenied} from the problem mappers, as
 * {@code request.denied} with method and path. Code that wants a more telling action name (e.g.
 * {@code activation.decided} for a self-approval) calls {@link #denied} and then throws its 403 as usual: the
 * mapper sees the denial was already recorded for this request and does not record it twice.
 */
@ApplicationScoped
public class DenialRecorder implements dev.keyhold.error.DenialSink {

    public static final String REQUEST_DENIED = "request.denied";
    private static final Logger LOG = Logger.getLogger(DenialRecorder.class);
    private static final String RECORDED = "keyhold.denial-recorded";
    private static final Pattern ISSUER_PATH = Pattern.compile("^/v1/issuers/([a-z0-9][a-z0-9-]{0,62})(/.*)?$");
    private static final Pattern KEY_PATH = Pattern.compile("^/v1/keys/([A-Za-z0-9_-]{43})(/.*)?$");

    @Inject
    ChangeRecorder recorder;

    @Inject
    CurrentIdentityAssociation identities;

    @Inject
    CurrentVertxRequest currentRequest;

    @Inject
    KeyIssuers keyIssuers;

    /**
     * Records one refused attempt in a new transaction (any caller transaction is suspended meanwhile). Blocking.
     * Call it where the caller holds no row locks a recording transaction could wait for: before locking, or
     * simply throw the 403 and let the mapper record it after the rollback. Failures propagate: a refusal that
     * cannot be audited is reported as the failure it is.
     */
    public void denied(String actor, String action, String issuerId, String kid, Map<String, Object> details) {
        QuarkusTransaction.requiringNew()
                .run(() -> recorder.record(Change.auditOnly(action, actor, Change.DENIED, issuerId, kid, details)));
        Context ctx = Vertx.currentContext();
        if (ctx != null) {
            ctx.putLocal(RECORDED, Boolean.TRUE);
        }
    }

    /**
     * Records the 403 being answered for the current HTTP request, unless it is outside {@code /v1} or was already
     * recorded. Safe on the event loop (the database work moves to a worker). Never fails: the request stays refused
     * whatever happens here, and a lost denial record is logged as an error.
     */
    @Override
    public Uni<Void> requestDenied(String reason) {
        RoutingContext rc = currentRequest.getCurrent();
        if (rc == null || !rc.normalizedPath().startsWith("/v1/") || alreadyRecorded()) {
            return Uni.createFrom().voidItem();
        }
        String path = rc.normalizedPath();
        String method = rc.request().method().name();
        return identities
                .getDeferredIdentity()
                .onItem()
                .transformToUni(who -> blocking(() -> {
                    String kid = group(KEY_PATH, path);
                    String issuer = group(ISSUER_PATH, path);
                    denied(
                            actor(who),
                            REQUEST_DENIED,
                            issuer != null ? issuer : issuerOfKey(kid),
                            kid,
                            details(method, path, reason));
                }))
                .onFailure()
                .recoverWithItem(e -> {
                    LOG.errorf(e, "could not audit a refused %s %s", method, path);
                    return null;
                });
    }

    /**
     * {@link #requestDenied} for callers that cannot return a Uni: waits for the record on a worker thread (where
     * services throw their scoping 403s); on the event loop it lets the record complete in the background.
     */
    @Override
    public void recordRequestDenied(String reason) {
        Uni<Void> record = requestDenied(reason);
        if (Context.isOnEventLoopThread()) {
            record.subscribe().with(ignored -> {});
        } else {
            record.await().indefinitely();
        }
    }

    /** So that an auditor asking for an issuer's records also sees refused attempts on its keys. */
    private String issuerOfKey(String kid) {
        if (kid == null) {
            return null;
        }
        return QuarkusTransaction.requiringNew()
                .call(() -> keyIssuers.issuerOfKey(kid).orElse(null));
    }

    private static Uni<Void> blocking(Runnable work) {
        Context ctx = Vertx.currentContext();
        if (ctx != null && Context.isOnEventLoopThread()) {
            return Uni.createFrom()
                    .completionStage(() -> ctx.executeBlocking(
                                    () -> {
                                        work.run();
                                        return (Void) null;
                                    },
                                    false)
                            .toCompletionStage());
        }
        work.run();
        return Uni.createFrom().voidItem();
    }

    private static boolean alreadyRecorded() {
        Context ctx = Vertx.currentContext();
        return ctx != null && Boolean.TRUE.equals(ctx.getLocal(RECORDED));
    }

    private static String actor(SecurityIdentity who) {
        return who == null || who.isAnonymous()
                ? "anonymous"
                : who.getPrincipal().getName();
    }

    private static Map<String, Object> details(String method, String path, String reason) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("method", method);
        d.put("path", path);
        d.put("reason", reason);
        return d;
    }

    private static String group(Pattern p, String path) {
        Matcher m = p.matcher(path);
        return m.matches() ? m.group(1) : null;
    }
}
