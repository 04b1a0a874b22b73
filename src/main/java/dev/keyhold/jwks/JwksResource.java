package dev.keyhold.jwks;

import dev.keyhold.config.KeyholdConfig;
import dev.keyhold.error.ProblemException;
import dev.keyhold.issuer.IssuerValidator;
import io.smallrye.common.annotation.NonBlocking;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Response;

import java.util.Optional;

/**
 * {@code GET /issuers/{id}/.well-known/jwks.json}: public, one issuer's keys only. Served from memory on the
 * event loop; only a cache miss goes to the database, on a worker thread. When the database is down the last
 * built document keeps being served.
 */
@Path("/issuers/{id}/.well-known/jwks.json")
@PermitAll
public class JwksResource {

    // application/json rather than application/jwk-set+json: some validators refuse the latter.
    static final String JWKS_MEDIA_TYPE = "application/json";

    @Inject
    JwksCache cache;

    private final String cacheControl;

    @Inject
    public JwksResource(KeyholdConfig config) {
        this.cacheControl = "public, max-age=" + config.jwks().maxAge().toSeconds();
    }

    @GET
    @NonBlocking
    public Uni<Response> jwks(@PathParam("id") String issuerId, @HeaderParam("If-None-Match") String ifNoneMatch) {
        if (!IssuerValidator.SLUG.matcher(issuerId).matches()) {
            return Uni.createFrom().failure(ProblemException.notFound("issuer", issuerId));
        }
        Optional<JwksDocument> hit = cache.cached(issuerId);
        if (hit.isPresent()) {
            return Uni.createFrom().item(respond(hit.get(), ifNoneMatch));
        }
        return Uni.createFrom().item(() -> cache.load(issuerId))
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                .map(d -> respond(d.orElseThrow(() -> ProblemException.notFound("issuer", issuerId)), ifNoneMatch));
    }

    private Response respond(JwksDocument d, String ifNoneMatch) {
        if (ifNoneMatch != null && matches(ifNoneMatch, d.etag())) {
            return Response.notModified().header("ETag", d.etag()).header("Cache-Control", cacheControl).build();
        }
        return Response.ok(d.body(), JWKS_MEDIA_TYPE)
                .header("ETag", d.etag())
                .header("Cache-Control", cacheControl)
                .build();
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
