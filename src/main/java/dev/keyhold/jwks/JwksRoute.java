package dev.keyhold.jwks;

import dev.keyhold.config.KeyholdConfig;
import dev.keyhold.error.Problem;
import dev.keyhold.issuer.IssuerValidator;
import io.quarkus.vertx.web.Route;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * {@code GET /issuers/{id}/.well-known/jwks.json}: public, one issuer's keys only. This is the hottest path
 * of the service, so it is a plain Vert.x route served from memory on the event loop; only a cache miss goes
 * to the database, on a worker thread. When the database is down the last built document keeps being served.
 */
@ApplicationScoped
public class JwksRoute {

    private static final Logger LOG = Logger.getLogger(JwksRoute.class);
    // application/json rather than application/jwk-set+json: some validators refuse the latter.
    static final String MEDIA_TYPE = "application/json";

    @Inject
    JwksCache cache;

    private final String cacheControl;

    @Inject
    public JwksRoute(KeyholdConfig config) {
        this.cacheControl = "public, max-age=" + config.jwks().maxAge().toSeconds();
    }

    @Route(
            path = "/issuers/:id/.well-known/jwks.json",
            methods = Route.HttpMethod.GET,
            order = 1,
            type = Route.HandlerType.NORMAL)
    void jwks(RoutingContext rc) {
        String issuerId = rc.pathParam("id");
        if (issuerId == null || !IssuerValidator.SLUG.matcher(issuerId).matches()) {
            notFound(rc, issuerId);
            return;
        }
        Optional<JwksDocument> hit = cache.cached(issuerId);
        if (hit.isPresent()) {
            respond(rc, hit.get());
            return;
        }
        rc.vertx()
                .<Optional<JwksDocument>>executeBlocking(() -> cache.load(issuerId), false)
                .onSuccess(d -> {
                    if (d.isPresent()) {
                        respond(rc, d.get());
                    } else {
                        notFound(rc, issuerId);
                    }
                })
                .onFailure(e -> {
                    LOG.warnf("JWKS of %s unavailable: %s", issuerId, e.getMessage());
                    problem(rc, 503, "database-unavailable", "Database unavailable", "the JWKS cannot be loaded now");
                });
    }

    private void respond(RoutingContext rc, JwksDocument d) {
        HttpServerResponse res = rc.response();
        MultiMap h = res.headers();
        h.set("ETag", d.etag());
        h.set("Cache-Control", cacheControl);
        String ifNoneMatch = rc.request().getHeader("If-None-Match");
        if (ifNoneMatch != null && matches(ifNoneMatch, d.etag())) {
            res.setStatusCode(304).end();
            return;
        }
        h.set("Content-Type", MEDIA_TYPE);
        // Set here, not left to Vert.x, which omits it on a HEAD response (RFC 9110 lets HEAD carry it).
        h.set("Content-Length", Integer.toString(d.body().length));
        res.end(d.buffer());
    }

    private void notFound(RoutingContext rc, String issuerId) {
        problem(rc, 404, "not-found", "issuer not found", "issuer '" + issuerId + "' does not exist");
    }

    private static void problem(RoutingContext rc, int status, String slug, String title, String detail) {
        if (status == 503) {
            rc.response().putHeader("Retry-After", Problem.RETRY_AFTER_SECONDS);
        }
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
        if (header.equals(etag)) {
            return true;
        }
        for (String tag : header.split(",")) {
            String t = tag.trim();
            if (t.equals("*") || t.equals(etag)) {
                return true;
            }
        }
        return false;
    }
}
