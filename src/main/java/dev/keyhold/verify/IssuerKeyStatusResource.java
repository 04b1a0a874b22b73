package dev.keyhold.verify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyhold.config.KeyholdConfig;
import dev.keyhold.domain.Deadlines;
import dev.keyhold.domain.Key;
import dev.keyhold.error.ProblemException;
import dev.keyhold.issuer.IssuerValidator;
import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Base64;

/**
 * {@code GET /issuers/{id}/.well-known/keyhold-issuer.json} (public): what a validator needs beside the JWKS to
 * answer exactly as {@code POST /v1/verify} does: the issuer's {@code iss}, whether it is suspended, and every kid
 * it ever had with its state and the instant it leaves the JWKS ({@code publishedUntil}, absent while no end is set).
 * A kid of this issuer that is no longer usable is then told apart from a kid that was never its
 * ({@code key_not_usable} versus {@code kid_not_bound_to_issuer}), also for keys retired or revoked before the
 * validator started, and a retired key's end is honoured at use time without waiting for an event.
 *
 * <p>Nothing here is secret: every kid, state change and suspension is already announced on the public event feed.
 * Strong ETag and 304 on If-None-Match, like the JWKS.
 */
@Path("/issuers/{id}/.well-known/keyhold-issuer.json")
@PermitAll
public class IssuerKeyStatusResource {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    KeyholdConfig config;

    @Inject
    IssuerKeyRows issuerKeys;

    @GET
    public Response status(@PathParam("id") String issuerId, @HeaderParam("If-None-Match") String ifNoneMatch) {
        if (issuerId == null || !IssuerValidator.SLUG.matcher(issuerId).matches()) {
            throw notFound(issuerId);
        }
        IssuerKeyRows.Rows rows = issuerKeys.of(issuerId).orElseThrow(() -> notFound(issuerId));
        ObjectNode doc = JSON.createObjectNode();
        doc.put("id", rows.issuer().id());
        doc.put("issuerUri", rows.issuer().issuerUri());
        doc.put("status", rows.issuer().status().name());
        ArrayNode keys = doc.putArray("keys");
        for (Key k : rows.keys()) {
            ObjectNode n = keys.addObject();
            n.put("kid", k.kid());
            n.put("state", k.state().name());
            Deadlines.publishedUntil(k, rows.issuer().policy())
                    .filter(u -> !u.equals(Instant.MAX))
                    .ifPresent(u -> n.put("publishedUntil", u.toString()));
        }
        byte[] body = doc.toString().getBytes(StandardCharsets.UTF_8);
        String etag = "\"" + digest(body) + "\"";
        Response.ResponseBuilder r =
                etag.equals(ifNoneMatch) ? Response.notModified() : Response.ok(body, "application/json");
        return r.header("ETag", etag)
                .header(
                        "Cache-Control",
                        "public, max-age=" + config.jwks().maxAge().toSeconds())
                .build();
    }

    private static ProblemException notFound(String issuerId) {
        return ProblemException.notFound("issuer", issuerId);
    }

    private static String digest(byte[] body) {
        try {
            return Base64.getUrlEncoder()
                    .withoutPadding()
                    .encodeToString(MessageDigest.getInstance("SHA-256").digest(body))
                    .substring(0, 27);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
