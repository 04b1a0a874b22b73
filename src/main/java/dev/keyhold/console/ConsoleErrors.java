package dev.keyhold.console;

import dev.keyhold.error.FailureClassifier;
import dev.keyhold.error.HtmlErrors;
import dev.keyhold.error.PageRenderer;
import io.quarkus.security.AuthenticationRedirectException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import java.net.URI;

/**
 * The console's answer to a failed authentication, for the application's one 401 mapper (error/ProblemMappers):
 * with lazy authentication a failed login reaches the JAX-RS mappers instead of the login mechanism, and a person
 * must get a page, not problem JSON.
 */
@ApplicationScoped
public class ConsoleErrors implements HtmlErrors {

    static final String LOGIN_POST = "/console/j_security_check";

    @Inject
    PageRenderer pages;

    public static boolean isConsole(String path) {
        return path != null && (path.equals("/console") || path.startsWith("/console/"));
    }

    @Override
    public Response unauthenticated(String path, RuntimeException cause) {
        if (!isConsole(path)) {
            return null;
        }
        if (cause instanceof AuthenticationRedirectException r) {
            // the login mechanism's own redirect (e.g. OpenID Connect's last step back to the page asked for)
            return Response.status(r.getCode())
                    .location(URI.create(r.getRedirectUri()))
                    .header("Cache-Control", "no-store")
                    .build();
        }
        if (LOGIN_POST.equals(path)) {
            return Response.seeOther(URI.create("/console/login?error=true"))
                    .header("Cache-Control", "no-store")
                    .build();
        }
        return pages.render(FailureClassifier.classify(cause), null);
    }
}
