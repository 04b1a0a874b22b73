package dev.keyhold.error;

import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * Renders a {@link Failure} for people: the console's error page, with the status the API would send for the same
 * failure. Only the wording differs: a person gets a sentence to act on instead of a problem type.
 */
@ApplicationScoped
public class PageRenderer {

    @Inject
    @Location("console/error")
    Template errorPage;

    /** The title and text a person reads for this failure. */
    public record Wording(String title, String detail) {}

    /** @param nav the page's navigation, or null when there is no signed-in person to show it to */
    public Response render(Failure f, Object nav) {
        Wording w = wording(f);
        String html = errorPage
                .data("nav", nav)
                .data("status", f.status())
                .data("title", w.title())
                .data("detail", w.detail())
                .render();
        Response.ResponseBuilder b = Response.status(f.status())
                .type(MediaType.TEXT_HTML_TYPE.withCharset("UTF-8"))
                .entity(html)
                .header("Cache-Control", "no-store");
        if (f.headers().containsKey("Allow")) {
            b.header("Allow", f.headers().get("Allow"));
        }
        if (f.headers().containsKey("Retry-After")) {
            b.header("Retry-After", f.headers().get("Retry-After"));
        }
        return b.build();
    }

    public static Wording wording(Failure f) {
        return switch (f.slug()) {
            case "unauthenticated" ->
                new Wording("Please sign in", "You are not signed in, or your session has ended.");
            case "hsm-unavailable" ->
                new Wording("HSM unavailable", "The HSM cannot be reached just now; try again shortly.");
            case "database-unavailable" ->
                new Wording("Database unavailable", "The database cannot be reached just now; try again shortly.");
            case "concurrent-change" ->
                new Wording(
                        "Changed at the same time",
                        "Someone changed the same thing at the same time; reload and try again.");
            case "internal" -> new Wording("Internal error", "Something went wrong; it has been logged.");
            case "invalid-request", "malformed-body", "bad-request" ->
                new Wording(f.title(), "Please go back and correct: " + f.detail());
            case "http-404" -> new Wording("Not found", "There is no such page.");
            case "http-405" -> new Wording("Not allowed", "This page cannot be used that way.");
            case "http-415" -> new Wording("Unsupported form", "Please use the console's own forms.");
            default ->
                f.slug().startsWith("http-")
                        ? new Wording("Request not accepted", "The request could not be handled.")
                        : new Wording(f.title(), f.detail());
        };
    }
}
