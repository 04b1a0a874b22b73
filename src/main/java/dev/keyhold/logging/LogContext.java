package dev.keyhold.logging;

import io.quarkus.security.identity.CurrentIdentityAssociation;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import java.util.regex.Pattern;
import org.jboss.logging.MDC;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

/**
 * Puts what a log line of a request should carry into the MDC (the {@code mdc} object of a JSON log line, see
 * {@code KEYHOLD_LOG_JSON}): {@code requestId} (the {@code X-Request-Id} Keyhold answers with), {@code actor} (the
 * authenticated principal's name), {@code issuer} and {@code kid} (from the path, or set by the code that resolves
 * them, e.g. the verifier). Never a PIN, password or token: only names and ids, each checked against a tight
 * pattern so a hostile path cannot inject text into the log.
 */
public class LogContext {

    public static final String REQUEST_ID = "requestId";
    public static final String ACTOR = "actor";
    public static final String ISSUER = "issuer";
    public static final String KID = "kid";

    private static final Pattern ISSUER_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Pattern KID_VALUE = Pattern.compile("[A-Za-z0-9_-]{1,128}");
    private static final Pattern ACTOR_NAME = Pattern.compile("[\\p{Alnum}._@:/+-]{1,128}");

    @Inject
    RoutingContext routing;

    @Inject
    CurrentIdentityAssociation identities;

    /**
     * Returns once the caller's identity is known (authentication is otherwise lazy here: {@code @PermitAll}
     * resources resolve it inside the method), so that {@code actor} is in the MDC for every line of the request.
     * A failed authentication is left to the resource and the security checks, which see the same failure.
     */
    @ServerRequestFilter
    Uni<Void> enter(ContainerRequestContext ctx) {
        clear();
        String requestId = ctx.getHeaderString("X-Request-Id");
        Object fromResponse = routing.response().headers().get("X-Request-Id");
        if (fromResponse != null) {
            requestId = fromResponse.toString();
        }
        if (requestId != null) {
            MDC.put(REQUEST_ID, requestId);
        }
        String path = ctx.getUriInfo().getPath();
        String issuer = segmentAfter(path, "/v1/issuers/");
        if (issuer == null) {
            issuer = segmentAfter(path, "/issuers/");
        }
        if (issuer != null && ISSUER_ID.matcher(issuer).matches()) {
            MDC.put(ISSUER, issuer);
        }
        String kid = segmentAfter(path, "/v1/keys/");
        if (kid != null && KID_VALUE.matcher(kid).matches()) {
            MDC.put(KID, kid);
        }
        return identities.getDeferredIdentity().onItemOrFailure().transform((identity, failure) -> {
            if (identity != null && !identity.isAnonymous()) {
                String actor = identity.getPrincipal().getName();
                if (actor != null && ACTOR_NAME.matcher(actor).matches()) {
                    MDC.put(ACTOR, actor);
                }
            }
            return null;
        });
    }

    @ServerResponseFilter
    void leave() {
        clear();
    }

    private static String segmentAfter(String path, String prefix) {
        if (path == null || !path.startsWith(prefix)) {
            return null;
        }
        String rest = path.substring(prefix.length());
        int slash = rest.indexOf('/');
        return slash < 0 ? rest : rest.substring(0, slash);
    }

    static void clear() {
        MDC.remove(REQUEST_ID);
        MDC.remove(ACTOR);
        MDC.remove(ISSUER);
        MDC.remove(KID);
    }
}
