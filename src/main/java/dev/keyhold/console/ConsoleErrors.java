package dev.keyhold.console;

import dev.keyhold.error.HtmlErrors;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.quarkus.security.AuthenticationRedirectException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.MediaType;
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
    @Location("console/error")
    Template errorPage;

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
            return Response.status(r.getCode()).location(URI.create(r.getRedirectUri()))
                    .header("Cache-Control", "no-store").build();
        }
        if (LOGIN_POST.equals(path)) {
            return Response.seeOther(URI.create("/console/login?error=true")).header("Cache-Control", "no-store").build();
        }
        String html = errorPage.data("nav", null).data("status", 401).data("title", "Please sign in")
                .data("detail", "You are not signed in, or your session has ended.").render();
        return Response.status(401).type(MediaType.TEXT_HTML_TYPE.withCharset("UTF-8")).entity(html)
                .header("Cache-Control", "no-store").build();
    }
}
