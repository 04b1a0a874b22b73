package dev.keyhold.console;

import dev.keyhold.activation.ActivationDecisions;
import dev.keyhold.activation.DecisionRequest;
import dev.keyhold.activation.Denied;
import dev.keyhold.activation.KillSwitch;
import dev.keyhold.activation.Refusals;
import dev.keyhold.audit.AuditPage;
import dev.keyhold.audit.AuditQuery;
import dev.keyhold.audit.AuditQueryService;
import dev.keyhold.audit.AuditVerifier;
import dev.keyhold.audit.DenialRecorder;
import dev.keyhold.audit.QueryParams;
import dev.keyhold.custodian.Credentials;
import dev.keyhold.custodian.WebAuthnSettings;
import dev.keyhold.error.Failure;
import dev.keyhold.error.FailureClassifier;
import dev.keyhold.error.PageRenderer;
import dev.keyhold.error.ProblemException;
import dev.keyhold.error.ValidationException;
import dev.keyhold.issuer.IssuerView;
import dev.keyhold.key.KeyView;
import dev.keyhold.security.Roles;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.quarkus.qute.TemplateInstance;
import io.quarkus.security.Authenticated;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Cookie;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.NewCookie;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * {@code /console}: server-rendered pages for custodians, auditors and admins. Every page calls the same services the
 * API calls, with the caller's identity, so the API's authorization applies unchanged (a forged decision is refused
 * and audited by {@code ActivationRequests} exactly as through {@code POST /v1/activations/{id}/decisions}); the
 * console only hides what the caller could not do anyway. Failures become HTML pages here, never problem JSON or a
 * stack trace.
 *
 * <p>CSRF: every form carries a random token that must equal the {@code keyhold-csrf} cookie (double submit). The
 * cookie is HTTP-only, SameSite=Strict and scoped to {@code /console}, so a page on another site can neither read it
 * nor make the browser send it.
 */
@Path("/console")
@Authenticated
@Produces(MediaType.TEXT_HTML)
public class ConsoleResource {

    static final String CSRF_COOKIE = "keyhold-csrf";
    static final String CSRF_FIELD = "csrf";
    private static final int OPEN_REQUESTS_SHOWN = 200;
    private static final Logger LOG = Logger.getLogger(ConsoleResource.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    @Inject
    SecurityIdentity identity;

    @Inject
    ConsoleViews views;

    @Inject
    ConsoleConfig config;

    @Inject
    ActivationDecisions decisions;

    @Inject
    KillSwitch killSwitch;

    @Inject
    Refusals refusals;

    @Inject
    DenialRecorder denials;

    @Inject
    AuditQueryService audit;

    @Inject
    AuditVerifier verifier;

    @Inject
    Credentials credentials;

    @Inject
    WebAuthnSettings webauthn;

    @Context
    HttpHeaders headers;

    @Context
    UriInfo uri;

    @Inject
    @Location("console/requests")
    Template requestsPage;

    @Inject
    @Location("console/request")
    Template requestPage;

    @Inject
    @Location("console/issuers")
    Template issuersPage;

    @Inject
    @Location("console/issuer")
    Template issuerPage;

    @Inject
    @Location("console/suspend")
    Template suspendPage;

    @Inject
    @Location("console/key")
    Template keyPage;

    @Inject
    @Location("console/audit")
    Template auditPage;

    @Inject
    @Location("console/credentials")
    Template credentialsPage;

    @Inject
    PageRenderer pages;

    @Inject
    @Location("console/login")
    Template loginPage;

    @Inject
    @Location("console/logged-out")
    Template loggedOutPage;

    @GET
    public Response home() {
        requireConsoleUser();
        return seeOther("/console/requests");
    }

    // ---- requests ---------------------------------------------------------------------------------------------

    @GET
    @Path("/requests")
    public Response requests() {
        requireConsoleUser();
        List<Views.RequestCard> open = views.openRequests(identity, OPEN_REQUESTS_SHOWN);
        return page(
                requestsPage,
                "requests",
                t -> t.data("requests", open)
                        .data("limited", open.size() >= OPEN_REQUESTS_SHOWN)
                        .data("shown", OPEN_REQUESTS_SHOWN));
    }

    @GET
    @Path("/requests/{id}")
    public Response request(@PathParam("id") String id, @QueryParam("done") String done) {
        requireConsoleUser();
        Views.RequestCard card = views.request(id, identity);
        return page(requestPage, "requests", t -> t.data("r", card).data("notice", notice(done)));
    }

    @POST
    @Path("/requests/{id}/decision")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response decide(
            @PathParam("id") String id,
            @FormParam("decision") String decision,
            @FormParam("comment") String comment,
            @FormParam(CSRF_FIELD) String csrf,
            @FormParam("signature") String signature) {
        requireCsrf(csrf);
        requireConsoleUser();
        String c = comment == null || comment.isBlank() ? null : comment.strip();
        // An approval carries the custodian's signature over the request's statement (an SSH signature pasted in).
        java.util.Map<String, Object> sig = signature == null || signature.isBlank()
                ? null
                : java.util.Map.of("format", "sshsig", "value", signature.strip());
        decisions.decide(id, new DecisionRequest(decision, c, sig), identity);
        return seeOther("/console/requests/" + id + "?done=" + ("reject".equals(decision) ? "rejected" : "approved"));
    }

    // ---- the custodian's own credentials (passkeys) ---------------------------------------------------------------

    /**
     * "My credentials": the custodian's enrolled credentials and the passkey enrollment (passkeys.js, which calls
     * {@link ConsolePasskeys}). A row whose HSM seal does not verify is shown as such: it is not a credential.
     */
    @GET
    @Path("/credentials")
    public Response credentials(@QueryParam("done") String done) {
        requireRole(Roles.CUSTODIAN, "credentials are the custodians' own");
        String principal = identity.getPrincipal().getName();
        List<Views.CredentialRow> rows = credentials.rows(principal).stream()
                .map(c -> new Views.CredentialRow(
                        c.id(), c.format(), c.algorithm(), ConsoleViews.time(c.enrolledAt()), credentials.sealOk(c)))
                .toList();
        return page(
                credentialsPage,
                "credentials",
                t -> t.data("credentials", rows).data("notice", notice(done)).data("rpId", webauthn.rpId()));
    }

    // ---- issuers ----------------------------------------------------------------------------------------------

    @GET
    @Path("/issuers")
    public Response issuers() {
        requireConsoleUser();
        List<Views.IssuerRow> rows = views.issuers(identity);
        return page(issuersPage, "issuers", t -> t.data("issuers", rows));
    }

    @GET
    @Path("/issuers/{id}")
    public Response issuer(@PathParam("id") String id, @QueryParam("done") String done) {
        requireConsoleUser();
        IssuerView v = views.visibleIssuer(id, identity);
        boolean mayAct = mayActOn(v);
        List<Views.KeyRow> keys = views.keysOf(id);
        List<Views.RequestLink> reqs = views.requestsOf(id, identity);
        return page(
                issuerPage,
                "issuers",
                t -> t.data("i", ConsoleViews.issuerRow(v))
                        .data("keys", keys)
                        .data("links", reqs)
                        .data("mayAct", mayAct)
                        .data("notice", notice(done)));
    }

    /**
     * The kill switch, in two steps: the first POST (reason given) shows what will happen and asks to confirm; the
     * second, with {@code confirmed=yes}, suspends.
     */
    @POST
    @Path("/issuers/{id}/suspend")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response suspend(
            @PathParam("id") String id,
            @FormParam("reason") String reason,
            @FormParam("confirmed") String confirmed,
            @FormParam(CSRF_FIELD) String csrf) {
        requireCsrf(csrf);
        requireConsoleUser();
        String r = reason == null ? "" : reason.strip();
        if (r.isEmpty() || r.length() > 500) {
            throw new ValidationException(List.of(new ValidationException.FieldError(
                    "reason",
                    "a reason is required (1 to 500 characters): it goes into the audit trail and the event")));
        }
        if (!"yes".equals(confirmed)) {
            IssuerView v = views.visibleIssuer(id, identity);
            return page(
                    suspendPage,
                    "issuers",
                    t -> t.data("i", ConsoleViews.issuerRow(v)).data("reason", r));
        }
        refusals.audited(() -> killSwitch.suspend(id, r, identity));
        return seeOther("/console/issuers/" + id + "?done=suspended");
    }

    @POST
    @Path("/issuers/{id}/resume")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response resume(
            @PathParam("id") String id, @FormParam("reason") String reason, @FormParam(CSRF_FIELD) String csrf) {
        requireCsrf(csrf);
        requireConsoleUser();
        String r = reason == null || reason.isBlank() ? null : reason.strip();
        if (r != null && r.length() > 500) {
            throw new ValidationException(
                    List.of(new ValidationException.FieldError("reason", "at most 500 characters")));
        }
        KillSwitch.Resumption res = refusals.audited(() -> killSwitch.resume(id, r, identity));
        return seeOther(
                "/console/requests/" + res.requestId() + "?done=" + (res.created() ? "resume-opened" : "resume-live"));
    }

    // ---- keys and audit ---------------------------------------------------------------------------------------

    @GET
    @Path("/keys/{kid}")
    public Response key(@PathParam("kid") String kid) {
        requireConsoleUser();
        KeyView k = views.visibleKey(kid, identity);
        boolean auditor = identity.hasRole(Roles.AUDITOR);
        // The audit trail is the auditor's to read (as GET /v1/keys/{kid}/history); others see the key's own dates.
        List<Views.TimelineRow> timeline = auditor
                ? audit.history(kid).stream().map(ConsoleViews::timelineRow).toList()
                : List.of();
        return page(
                keyPage,
                "issuers",
                t -> t.data("k", ConsoleViews.keyRow(k))
                        .data("timeline", timeline)
                        .data("auditor", auditor)
                        .data("jwk", k.publicJwk().toPrettyString()));
    }

    @GET
    @Path("/audit")
    public Response audit(
            @QueryParam("issuer") String issuer,
            @QueryParam("kid") String kid,
            @QueryParam("actor") String actor,
            @QueryParam("action") String action,
            @QueryParam("from") String from,
            @QueryParam("to") String to,
            @QueryParam("after") String after,
            @QueryParam("limit") String limit) {
        requireRole(Roles.AUDITOR, "the audit trail is the auditors' to read");
        QueryParams p = new QueryParams();
        AuditQuery q = new AuditQuery(
                p.text("issuer", blankToNull(issuer)),
                p.text("kid", blankToNull(kid)),
                p.text("actor", blankToNull(actor)),
                p.text("action", blankToNull(action)),
                p.instant("from", from),
                p.instant("to", to),
                p.seq("after", after),
                p.limit(limit, 50));
        p.check(q.from() == null || q.to() == null || q.from().isBefore(q.to()), "to", "must be after from");
        p.done();
        AuditPage found = audit.find(q);
        AuditVerifier.Verdict v = verifier.verify();
        var cp = v.checkpoint();
        Views.ChainState chain = new Views.ChainState(
                v.ok(),
                v.records(),
                v.firstBrokenSeq() == null ? null : v.firstBrokenSeq().toString(),
                v.reason(),
                v.checkpoints(),
                cp == null ? null : Long.toString(cp.seq()),
                cp == null ? null : ConsoleViews.time(cp.time()),
                cp == null ? null : cp.node(),
                cp == null ? null : cp.keyId());
        Views.AuditFilter f =
                new Views.AuditFilter(nz(issuer), nz(kid), nz(actor), nz(action), nz(from), nz(to), q.limit());
        List<Views.TimelineRow> rows =
                found.records().stream().map(ConsoleViews::timelineRow).toList();
        String next = found.next() == null ? null : "/console/audit?" + query(f, found.next());
        String first = q.after() > 0 ? "/console/audit?" + query(f, 0) : null;
        return page(
                auditPage,
                "audit",
                t -> t.data("chain", chain)
                        .data("f", f)
                        .data("rows", rows)
                        .data("next", next)
                        .data("first", first));
    }

    // ---- login and logout -------------------------------------------------------------------------------------

    @GET
    @Path("/login")
    @PermitAll
    public Response login(@QueryParam("error") String error) {
        if (ConsoleSecurity.CODE.equals(ConsoleSecurity.login(config))) {
            return seeOther("/console");
        }
        return Response.ok(
                        loginPage.data("error", error != null).render(), MediaType.TEXT_HTML_TYPE.withCharset("UTF-8"))
                .header("Cache-Control", "no-store")
                .build();
    }

    @GET
    @Path("/logged-out")
    @PermitAll
    public Response loggedOut() {
        return Response.ok(loggedOutPage.instance().render(), MediaType.TEXT_HTML_TYPE.withCharset("UTF-8"))
                .header("Cache-Control", "no-store")
                .build();
    }

    /**
     * Ends the session: with form login by expiring its cookie; with OpenID Connect through Quarkus's logout path,
     * which ends the provider's session too (RP-initiated logout) and lands on /console/logged-out.
     */
    @POST
    @Path("/logout")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response logout(@FormParam(CSRF_FIELD) String csrf) {
        requireCsrf(csrf);
        NewCookie noCsrf = expired(CSRF_COOKIE);
        if (ConsoleSecurity.CODE.equals(ConsoleSecurity.login(config))) {
            return Response.seeOther(URI.create("/console/oidc-logout"))
                    .cookie(noCsrf)
                    .build();
        }
        return Response.seeOther(URI.create("/console/logged-out"))
                .cookie(expired(formCookieName()), noCsrf)
                .build();
    }

    /** Any other console path: the 404 page (unmatched paths would otherwise get the API's problem JSON). */
    @GET
    @Path("/{rest: .+}")
    public Response notFound() {
        throw new ProblemException.NotFound("Not found", "There is no such page.");
    }

    // ---- errors as pages ---------------------------------------------------------------------------------------

    /**
     * Every failure in the console, classified as the API classifies it (error/FailureClassifier), so the same input
     * gets the same status; rendered as a page. Redirects thrown as exceptions pass through.
     */
    @ServerExceptionMapper
    public Response failure(Throwable e) {
        if (e instanceof WebApplicationException w
                && w.getResponse() != null
                && w.getResponse().getStatus() < 400) {
            return w.getResponse();
        }
        Failure f = FailureClassifier.classify(e);
        if (f.status() == 403 && denialToRecord(e)) {
            recordDenial(e instanceof ForbiddenException ? "role not allowed" : f.detail());
        }
        return pages.render(f, currentNav());
    }

    /** Denials thrown as Denied were recorded where they were thrown (Refusals); every other 403 is recorded here. */
    private static boolean denialToRecord(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof Denied) {
                return false;
            }
        }
        return true;
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private void requireConsoleUser() {
        if (!(identity.hasRole(Roles.ADMIN) || identity.hasRole(Roles.CUSTODIAN) || identity.hasRole(Roles.AUDITOR))) {
            throw ProblemException.forbidden("the console is for custodians, auditors and admins");
        }
    }

    private void requireRole(String role, String why) {
        if (!identity.hasRole(role)) {
            throw ProblemException.forbidden(why);
        }
    }

    private boolean mayActOn(IssuerView v) {
        return identity.hasRole(Roles.ADMIN)
                || (identity.hasRole(Roles.CUSTODIAN)
                        && v.custodians().contains(identity.getPrincipal().getName()));
    }

    private void recordDenial(String reason) {
        try {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("method", "console");
            d.put("path", uri.getPath());
            d.put("reason", reason);
            String actor = identity.isAnonymous()
                    ? "anonymous"
                    : identity.getPrincipal().getName();
            denials.denied(actor, DenialRecorder.REQUEST_DENIED, null, null, d);
        } catch (RuntimeException ex) {
            LOG.errorf(ex, "could not audit a refused console request to %s", uri.getPath());
        }
    }

    /** The double-submit check: the form's token must equal the cookie's. Refused before anything else runs. */
    private void requireCsrf(String field) {
        if (!csrfMatches(headers.getCookies().get(CSRF_COOKIE), field)) {
            throw new ProblemException.Forbidden(
                    "csrf",
                    "Form expired",
                    "This form was not sent from a current console page. Reload the page and try again.");
        }
    }

    /** The double-submit comparison: a token of at least 32 characters, equal to the cookie's (constant time). */
    static boolean csrfMatches(Cookie c, String token) {
        return c != null
                && token != null
                && c.getValue().length() >= 32
                && MessageDigest.isEqual(
                        c.getValue().getBytes(StandardCharsets.US_ASCII), token.getBytes(StandardCharsets.US_ASCII));
    }

    private Response page(Template template, String active, UnaryOperator<TemplateInstance> data) {
        Cookie c = headers.getCookies().get(CSRF_COOKIE);
        String token = c != null && c.getValue().length() >= 32 ? c.getValue() : null;
        boolean fresh = token == null;
        if (fresh) {
            byte[] b = new byte[32];
            RANDOM.nextBytes(b);
            token = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
        }
        TemplateInstance t = data.apply(template.data("nav", nav(active, token)));
        Response.ResponseBuilder b = Response.ok(t.render(), MediaType.TEXT_HTML_TYPE.withCharset("UTF-8"))
                .header("Cache-Control", "no-store");
        if (fresh) {
            b.cookie(new NewCookie.Builder(CSRF_COOKIE)
                    .value(token)
                    .path("/console")
                    .httpOnly(true)
                    .secure(https())
                    .sameSite(NewCookie.SameSite.STRICT)
                    .build());
        }
        return b.build();
    }

    private Views.Nav nav(String active, String csrf) {
        if (identity == null || identity.isAnonymous()) {
            return null;
        }
        List<String> roles = new ArrayList<>(identity.getRoles());
        roles.sort(null);
        return new Views.Nav(
                identity.getPrincipal().getName(),
                String.join(", ", roles),
                identity.hasRole(Roles.CUSTODIAN),
                identity.hasRole(Roles.ADMIN),
                identity.hasRole(Roles.AUDITOR),
                csrf,
                active);
    }

    private Views.Nav currentNav() {
        try {
            Cookie c = headers.getCookies().get(CSRF_COOKIE);
            return nav(null, c == null ? "" : c.getValue());
        } catch (RuntimeException ignored) {
            return null; // no identity available: the page shows no navigation
        }
    }

    private boolean https() {
        return "https".equalsIgnoreCase(uri.getRequestUri().getScheme());
    }

    private NewCookie expired(String name) {
        return new NewCookie.Builder(name)
                .value("")
                .path("/console")
                .maxAge(0)
                .httpOnly(true)
                .secure(https())
                .sameSite(NewCookie.SameSite.STRICT)
                .build();
    }

    private static String formCookieName() {
        return org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getOptionalValue("quarkus.http.auth.form.cookie-name", String.class)
                .orElse("quarkus-credential");
    }

    private static Response seeOther(String path) {
        return Response.seeOther(URI.create(path)).build();
    }

    private static String notice(String done) {
        if (done == null) {
            return null;
        }
        return switch (done) {
            case "approved" -> "Your approval is recorded.";
            case "enrolled" -> "Your passkey is enrolled.";
            case "rejected" -> "Your rejection is recorded; the request is closed.";
            case "suspended" -> "The issuer is suspended: nothing signs for it until a resume is approved.";
            case "resume-opened" -> "Resume requested: it needs the approval of other custodians.";
            case "resume-live" -> "A resume request is already open; here it is.";
            default -> null;
        };
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    private static String query(Views.AuditFilter f, long after) {
        StringBuilder q = new StringBuilder();
        append(q, "issuer", f.issuer());
        append(q, "kid", f.kid());
        append(q, "actor", f.actor());
        append(q, "action", f.action());
        append(q, "from", f.from());
        append(q, "to", f.to());
        append(q, "limit", Integer.toString(f.limit()));
        if (after > 0) {
            append(q, "after", Long.toString(after));
        }
        return q.toString();
    }

    private static void append(StringBuilder q, String name, String value) {
        if (value != null && !value.isEmpty()) {
            if (!q.isEmpty()) {
                q.append('&');
            }
            q.append(name).append('=').append(URLEncoder.encode(value, StandardCharsets.UTF_8));
        }
    }
}
