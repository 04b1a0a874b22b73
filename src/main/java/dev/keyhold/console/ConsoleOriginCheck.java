package dev.keyhold.console;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.event.Observes;
import java.net.URI;
import java.util.Locale;
import java.util.Set;

/**
 * Refuses a console form posted from another site, the login form included. The double-submit token in every
 * console form ({@link ConsoleResource}) cannot protect the login itself, where no session exists yet: a page on
 * another site could sign a custodian into the attacker's account (login CSRF) and have them approve under it.
 * Browsers name where a request comes from: {@code Sec-Fetch-Site} (anything but {@code same-origin} or {@code none}
 * is refused) and {@code Origin} (it must be this server's own host). A request with neither header does not come
 * from a browser page and gains nothing from a victim's cookies; it goes on to the usual checks.
 */
@jakarta.inject.Singleton
public class ConsoleOriginCheck {

    private static final Set<HttpMethod> SAFE = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS);

    /** Only under /console (the login form posts there too), and only for methods that are not safe. */
    void register(@Observes Router router) {
        for (HttpMethod m : HttpMethod.values()) {
            if (!SAFE.contains(m)) {
                router.route("/console").method(m).order(-9_500).handler(this::check);
                router.route("/console/*").method(m).order(-9_500).handler(this::check);
            }
        }
    }

    void check(RoutingContext rc) {
        HttpServerRequest req = rc.request();
        if (SAFE.contains(req.method()) || !ConsoleErrors.isConsole(req.path()) || sameOrigin(req)) {
            rc.next();
            return;
        }
        rc.response()
                .setStatusCode(403)
                .putHeader("Content-Type", "text/html; charset=UTF-8")
                .putHeader("Cache-Control", "no-store")
                .end("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Refused · Keyhold console"
                        + "</title></head><body><h1>Refused</h1><p>This form was sent from another site. "
                        + "Open the console at its own address and try again.</p></body></html>");
    }

    static boolean sameOrigin(HttpServerRequest req) {
        String site = req.getHeader("Sec-Fetch-Site");
        if (site != null) {
            String s = site.trim().toLowerCase(Locale.ROOT);
            if (!s.equals("same-origin") && !s.equals("none")) {
                return false;
            }
        }
        String origin = req.getHeader("Origin");
        if (origin == null) {
            return true;
        }
        String host = req.getHeader("Host");
        if (host == null || origin.equals("null")) {
            return false;
        }
        try {
            URI o = URI.create(origin.trim());
            String authority = o.getPort() < 0 ? o.getHost() : o.getHost() + ":" + o.getPort();
            return o.getHost() != null && authority.equalsIgnoreCase(host.trim()) || defaultPort(o, host);
        } catch (IllegalArgumentException malformed) {
            return false;
        }
    }

    /** {@code Origin: https://h} against {@code Host: h:443} (and http/80): the same origin written two ways. */
    private static boolean defaultPort(URI origin, String host) {
        if (origin.getHost() == null || origin.getPort() >= 0) {
            return false;
        }
        String port = "https".equalsIgnoreCase(origin.getScheme())
                ? "443"
                : "http".equalsIgnoreCase(origin.getScheme()) ? "80" : null;
        return port != null && (origin.getHost() + ":" + port).equalsIgnoreCase(host.trim());
    }
}
