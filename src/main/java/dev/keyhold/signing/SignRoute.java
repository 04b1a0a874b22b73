package dev.keyhold.signing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.audit.RequestIdFilter;
import dev.keyhold.error.BodyLimitFilter;
import dev.keyhold.error.ProblemMappers;
import dev.keyhold.issuer.Issuer;
import dev.keyhold.issuer.IssuerStatus;
import dev.keyhold.rotation.Deadlines;
import dev.keyhold.security.Roles;
import dev.keyhold.security.VerifiedCredentials;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.vertx.http.runtime.RouteConstants;
import io.quarkus.vertx.http.runtime.security.QuarkusHttpUser;
import io.quarkus.vertx.web.Route;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.logging.Logger;

import java.lang.reflect.Proxy;
import java.time.Clock;
import java.util.concurrent.atomic.LongAdder;

/**
 * The common case of {@code POST /v1/issuers/{id}/sign} without the JAX-RS stack: per token, RESTEasy's
 * dispatch, CDI request scope, security interceptors and writer lookup cost several times the ES256 signature
 * itself (docs/benchmarks.md, "Signing throughput"). {@link SigningResource} stays the endpoint's contract
 * (OpenAPI, every refusal); this route only takes a request when everything it can check before reading the body
 * says the token will be signed: JSON in and out, an authenticated signer that the issuer names, the issuer's
 * snapshot in memory, the issuer ACTIVE and its key usable now. Anything else goes on ({@code rc.next()}) to the
 * resource, untouched. Once it has read the body, a failure (claims, rate limit, HSM) is answered by the same
 * exception mappers the resource uses, so the problem responses are the same.
 *
 * <p>Two entries: {@link #early} for a Basic credential the realm has already verified, ahead of Quarkus's
 * filters, and the reactive route {@link #sign} after them for every other authenticated caller.
 *
 * <p>The signature runs on a small dedicated pool ({@code keyhold.signing.workers}: the HSM call blocks, and its
 * threads keep the normal scheduling policy while the event loops run under SCHED_BATCH, see
 * {@link EventLoopScheduling}); parsing and the checks run on the event loop.
 * The snapshot checked here is the one {@link SigningService#sign(SigningSnapshot, SignRequest, SecurityIdentity)}
 * signs with, so the signer check cannot pass here and fail there (a 403 that would have to be audited).
 */
@ApplicationScoped
public class SignRoute {

    private static final Logger LOG = Logger.getLogger(SignRoute.class);
    static final String JSON = "application/json;charset=UTF-8";
    /** Just after Quarkus's body handler, ahead of every filter (request id, body limit, authentication). */
    static final int EARLY = RouteConstants.ROUTE_ORDER_BODY_HANDLER + 1;

    @Inject
    SigningCache cache;
    @Inject
    SigningService signing;
    @Inject
    Clock clock;
    @Inject
    ObjectMapper mapper;
    @Inject
    ProblemMappers problems;
    @Inject
    SigningConfig config;
    @Inject
    VerifiedCredentials credentials;
    @Inject
    BodyLimitFilter bodyLimit;
    @Inject
    EventLoopScheduling scheduling;

    private volatile WorkerExecutor workers;

    private final RateLimitedMapper rateLimited = new RateLimitedMapper();
    /** Requests answered here (tests check that the common case does come this way). */
    private final LongAdder served = new LongAdder();
    /** Of those, the ones answered ahead of Quarkus's filters ({@link #early}). */
    private final LongAdder servedEarly = new LongAdder();

    void install(@Observes Router router) {
        router.post("/v1/issuers/:id/sign").order(EARLY).handler(this::early);
    }

    /**
     * The common case once the signer's Basic credential has been verified by the realm (the first request of a
     * credential goes the whole way, through Quarkus's authentication, and the realm's acceptance is what
     * {@link VerifiedCredentials} remembers). Skips Quarkus's filter chain, which costs more per token than
     * the rest of the HTTP side (docs/benchmarks.md). What that chain would do for this request is done here:
     * the request id, the body limit, the same identity, the same signer check. Bearer tokens and everything
     * else go on unchanged.
     */
    void early(RoutingContext rc) {
        HttpServerRequest req = rc.request();
        SigningSnapshot snap = takeable(rc);
        // Expect: 100-continue is left to the chain's body handling, which answers it.
        SecurityIdentity who = snap == null || !bodyLimit.allows(req.getHeader("Content-Length"))
                || req.getHeader("Expect") != null ? null : credentials.recognised(req.getHeader("Authorization"));
        if (who == null || !signs(snap, who)) {
            rc.next();
            return;
        }
        RequestIdFilter.assign(req);
        servedEarly.increment();
        serve(rc, snap, who);
    }

    @Route(path = "/v1/issuers/:id/sign", methods = Route.HttpMethod.POST, order = 1, type = Route.HandlerType.NORMAL)
    void sign(RoutingContext rc) {
        SigningSnapshot snap = takeable(rc);
        if (snap == null) {
            rc.next();
            return;
        }
        Context ctx = Vertx.currentContext();
        QuarkusHttpUser.getSecurityIdentity(rc, null).subscribe().with(
                who -> onContext(ctx, () -> authenticated(rc, snap, who)),
                failure -> onContext(ctx, rc::next)); // the resource answers the 401 (same memoised failure)
    }

    /** The issuer's snapshot when the request is one this route can take as far as its headers tell, else null. */
    private SigningSnapshot takeable(RoutingContext rc) {
        HttpServerRequest req = rc.request();
        String issuerId = rc.pathParam("id");
        SigningSnapshot snap = issuerId == null ? null : cache.cached(issuerId);
        if (snap == null || !json(req.getHeader("Content-Type")) || !acceptsJson(req.getHeader("Accept"))
                || req.getHeader("Content-Length") == null || !usable(snap)) {
            return null;
        }
        return snap;
    }

    /** An authenticated signer that the issuer names; anyone else gets the resource's 401/403 and audit record. */
    private static boolean signs(SigningSnapshot snap, SecurityIdentity who) {
        return who != null && !who.isAnonymous() && who.hasRole(Roles.SIGNER)
                && snap.issuer().isSigner(who.getPrincipal().getName());
    }

    private void authenticated(RoutingContext rc, SigningSnapshot snap, SecurityIdentity who) {
        if (!signs(snap, who)) {
            rc.next(); // 401/403 and the denial audit record come from the resource
            return;
        }
        serve(rc, snap, who);
    }

    private void serve(RoutingContext rc, SigningSnapshot snap, SecurityIdentity who) {
        served.increment();
        // The reactive route gets Vert.x's body handler: the body is read already. The early route reads it
        // here (Quarkus pauses the request until a body handler resumes it).
        if (rc.body() != null && rc.body().available()) {
            withBody(rc, snap, who, rc.body().buffer());
            return;
        }
        rc.request().body().onComplete(ar -> {
            if (ar.failed()) {
                rc.fail(ar.cause());
                return;
            }
            withBody(rc, snap, who, ar.result());
        });
        rc.request().resume();
    }

    private void withBody(RoutingContext rc, SigningSnapshot snap, SecurityIdentity who, Buffer b) {
        SignRequest body;
        try {
            body = b == null || b.length() == 0 ? null : mapper.readValue(b.getBytes(), SignRequest.class);
        } catch (Exception e) {
            problem(rc, e);
            return;
        }
        workers(rc.vertx()).<SignResponse>executeBlocking(() -> {
            scheduling.signingThread();
            return signing.sign(snap, body, who);
        }, false)
                .onComplete(done -> {
                    if (done.failed()) {
                        problem(rc, done.cause());
                        return;
                    }
                    byte[] out;
                    try {
                        out = mapper.writeValueAsBytes(done.result());
                    } catch (JsonProcessingException e) {
                        problem(rc, e);
                        return;
                    }
                    rc.response().setStatusCode(200).putHeader("Content-Type", JSON).end(Buffer.buffer(out));
                });
    }

    private WorkerExecutor workers(Vertx vertx) {
        WorkerExecutor w = workers;
        if (w == null) {
            synchronized (this) {
                if (workers == null) {
                    int n = config.workers() > 0 ? config.workers() : Runtime.getRuntime().availableProcessors();
                    workers = vertx.createSharedWorkerExecutor("keyhold-signing", n);
                }
                w = workers;
            }
        }
        return w;
    }

    long served() {
        return served.sum();
    }

    long servedEarly() {
        return servedEarly.sum();
    }

    /** What the resource would refuse or look up anyway is left to it. */
    private boolean usable(SigningSnapshot snap) {
        Issuer issuer = snap.issuer();
        return issuer.status() == IssuerStatus.ACTIVE && snap.active() != null
                && Deadlines.canSign(snap.active(), clock.instant());
    }

    /** A failure after the body was read: answered by the resource's exception mappers. */
    private void problem(RoutingContext rc, Throwable e) {
        UriInfo uri = pathOnly(rc.normalizedPath());
        Response r;
        try {
            // The two mappers that the catch-all does not reach; it finds ProblemException and HsmException itself.
            if (e instanceof RateLimitedException rl) {
                r = rateLimited.rateLimited(rl, uri);
            } else if (e instanceof JsonProcessingException j) {
                r = problems.badJson(j, uri);
            } else {
                r = problems.unexpected(e, uri);
            }
            HttpServerResponse res = rc.response().setStatusCode(r.getStatus());
            r.getStringHeaders().forEach((name, values) -> {
                if (!name.equalsIgnoreCase("Content-Type")) {
                    res.putHeader(name, values);
                }
            });
            res.putHeader("Content-Type", r.getMediaType().toString());
            res.end(Buffer.buffer(mapper.writeValueAsBytes(r.getEntity())));
        } catch (Exception mapping) {
            LOG.error("could not answer a failed signing request", mapping);
            rc.fail(500, e);
        }
    }

    /** The mappers only ask a UriInfo for the path (the problem's {@code instance}). */
    private static UriInfo pathOnly(String path) {
        return (UriInfo) Proxy.newProxyInstance(SignRoute.class.getClassLoader(), new Class<?>[]{UriInfo.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getPath" -> path;
                    case "toString" -> "UriInfo[" + path + "]";
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private static void onContext(Context ctx, Runnable work) {
        if (Context.isOnEventLoopThread() || ctx == null) {
            work.run();
        } else {
            ctx.runOnContext(v -> work.run());
        }
    }

    static boolean json(String contentType) {
        if (contentType == null) {
            return false;
        }
        int semi = contentType.indexOf(';');
        String type = (semi < 0 ? contentType : contentType.substring(0, semi)).trim();
        return type.equalsIgnoreCase("application/json");
    }

    /** No Accept, or one that plainly takes JSON; anything subtler (q=0, lists) is negotiated by the resource. */
    static boolean acceptsJson(String accept) {
        if (accept == null) {
            return true;
        }
        for (String part : accept.split(",")) {
            String t = part.trim();
            if (t.contains(";")) {
                return false;
            }
            if (t.equals("*/*") || t.equalsIgnoreCase("application/json") || t.equals("application/*")) {
                return true;
            }
        }
        return false;
    }
}
