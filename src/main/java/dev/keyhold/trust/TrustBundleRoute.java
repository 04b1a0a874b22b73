package dev.keyhold.trust;

import dev.keyhold.config.KeyholdConfig;
import dev.keyhold.error.Problem;
import dev.keyhold.issuer.IssuerValidator;
import io.quarkus.vertx.web.Route;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * The public trust routes, served like the JWKS ({@code jwks/JwksRoute}): plain Vert.x routes, the current bundle
 * from memory on the event loop, database reads on a worker thread.
 * <ul>
 *   <li>{@code GET /issuers/{id}/trust-bundle}: the newest signed bundle (compact JWS), strong ETag, 304 on
 *       If-None-Match, {@code Cache-Control: public, max-age} = the JWKS max-age, never beyond the bundle's exp;</li>
 *   <li>{@code GET /issuers/{id}/trust-bundles/{sequence}}: that bundle byte for byte as first signed (immutable);</li>
 *   <li>{@code GET /v1/trust-anchor}: the trust key's public JWKs (CURRENT, then NEXT) for validators to pin.</li>
 * </ul>
 */
@ApplicationScoped
public class TrustBundleRoute {

    private static final Logger LOG = Logger.getLogger(TrustBundleRoute.class);
    static final String MEDIA_TYPE = "application/jwt";

    @Inject
    TrustBundleStore store;

    @Inject
    TrustKeys keys;

    @Inject
    Clock clock;

    @Inject
    TrustAnchorDocument anchor;

    private final long maxAge;
    private final String anchorCacheControl;

    @Inject
    public TrustBundleRoute(KeyholdConfig config) {
        this.maxAge = config.jwks().maxAge().toSeconds();
        this.anchorCacheControl = "public, max-age=" + maxAge;
    }

    @Route(
            path = "/issuers/:id/trust-bundle",
            methods = Route.HttpMethod.GET,
            order = 1,
            type = Route.HandlerType.NORMAL)
    void current(RoutingContext rc) {
        String issuerId = rc.pathParam("id");
        if (!validId(issuerId)) {
            notFound(rc, "issuer '" + issuerId + "' does not exist");
            return;
        }
        Optional<TrustBundleStore.Served> hit = store.cached(issuerId);
        if (hit.isPresent()) {
            respond(rc, hit.get(), cacheControl(hit.get()));
            return;
        }
        blocking(rc, () -> store.current(issuerId), r -> respond(rc, r.served(), cacheControl(r.served())), issuerId);
    }

    @Route(
            path = "/issuers/:id/trust-bundles/:sequence",
            methods = Route.HttpMethod.GET,
            order = 1,
            type = Route.HandlerType.NORMAL)
    void at(RoutingContext rc) {
        String issuerId = rc.pathParam("id");
        long sequence;
        try {
            sequence = Long.parseLong(rc.pathParam("sequence"));
        } catch (NumberFormatException e) {
            sequence = -1;
        }
        if (!validId(issuerId) || sequence < 1) {
            notFound(rc, "no such trust bundle");
            return;
        }
        long n = sequence;
        blocking(
                rc,
                () -> store.at(issuerId, n),
                r -> respond(rc, r.served(), "public, max-age=31536000, immutable"),
                issuerId);
    }

    @Route(path = "/v1/trust-anchor", methods = Route.HttpMethod.GET, order = 1, type = Route.HandlerType.NORMAL)
    void anchor(RoutingContext rc) {
        TrustAnchorDocument.Rendered hit = anchor.cached();
        if (hit != null) {
            respond(rc, hit);
            return;
        }
        rc.vertx()
                .executeBlocking(anchor::load, false)
                .onSuccess(d -> respond(rc, d))
                .onFailure(e -> unavailable(rc, e));
    }

    private void respond(RoutingContext rc, TrustAnchorDocument.Rendered d) {
        HttpServerResponse res = rc.response();
        res.headers().set("ETag", d.etag()).set("Cache-Control", anchorCacheControl);
        String ifNoneMatch = rc.request().getHeader("If-None-Match");
        if (ifNoneMatch != null && matches(ifNoneMatch, d.etag())) {
            res.setStatusCode(304).end();
            return;
        }
        res.headers().set("Content-Type", "application/json").set("Content-Length", Integer.toString(d.length()));
        res.end(d.buffer());
    }

    private void blocking(
            RoutingContext rc,
            Supplier<TrustBundleStore.Result> load,
            java.util.function.Consumer<TrustBundleStore.Result> found,
            String issuerId) {
        rc.vertx()
                .executeBlocking(load::get, false)
                .onSuccess(r -> {
                    switch (r.lookup()) {
                        case FOUND -> found.accept(r);
                        case NO_ISSUER -> notFound(rc, "issuer '" + issuerId + "' does not exist");
                        case NOT_SIGNED -> notFound(rc, "no signed trust bundle of issuer '" + issuerId + "' yet");
                    }
                })
                .onFailure(e -> unavailable(rc, e));
    }

    private String cacheControl(TrustBundleStore.Served s) {
        long left = Duration.between(clock.instant(), s.exp()).toSeconds();
        return "public, max-age=" + Math.max(0, Math.min(maxAge, left));
    }

    private static void respond(RoutingContext rc, TrustBundleStore.Served s, String cacheControl) {
        HttpServerResponse res = rc.response();
        res.headers().set("ETag", s.etag()).set("Cache-Control", cacheControl);
        String ifNoneMatch = rc.request().getHeader("If-None-Match");
        if (ifNoneMatch != null && matches(ifNoneMatch, s.etag())) {
            res.setStatusCode(304).end();
            return;
        }
        // A trust key takeover's bundle is a JWS JSON serialization (two signatures); every other one is compact.
        res.headers()
                .set(
                        "Content-Type",
                        s.body().length > 0 && s.body()[0] == '{' ? TrustKeyRotations.JWS_JSON_MEDIA_TYPE : MEDIA_TYPE);
        res.end(io.vertx.core.buffer.Buffer.buffer(s.body()));
    }

    private static boolean validId(String id) {
        return id != null && IssuerValidator.SLUG.matcher(id).matches();
    }

    private static void unavailable(RoutingContext rc, Throwable e) {
        LOG.warnf("trust data unavailable: %s", e.getMessage());
        problem(rc, 503, "database-unavailable", "Database unavailable", "trust data cannot be loaded now");
    }

    private static void notFound(RoutingContext rc, String detail) {
        problem(rc, 404, "not-found", "Not found", detail);
    }

    private static void problem(RoutingContext rc, int status, String slug, String title, String detail) {
        rc.response()
                .setStatusCode(status)
                .putHeader("Content-Type", Problem.MEDIA_TYPE)
                .end(new JsonObject()
                        .put("type", Problem.typeUri(slug))
                        .put("title", title)
                        .put("status", status)
                        .put("detail", detail)
                        .put("instance", rc.request().path())
                        .encode());
    }

    /** RFC 9110 If-None-Match: a list of entity tags or "*". */
    static boolean matches(String header, String etag) {
        for (String tag : header.split(",")) {
            String t = tag.trim();
            if (t.equals("*") || t.equals(etag)) {
                return true;
            }
        }
        return false;
    }
}
