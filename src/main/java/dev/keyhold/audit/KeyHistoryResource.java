package dev.keyhold.audit;

import dev.keyhold.error.ProblemException;
import dev.keyhold.security.Roles;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code GET /v1/keys/{kid}/history}: its own class with the full path, because JAX-RS picks the resource class by
 * the longest literal class path first; a method under KeyResource's {@code /v1/keys} would work as well, but the
 * audit read model belongs to the audit feature.
 */
@Path("/v1/keys/{kid}/history")
@Produces(MediaType.APPLICATION_JSON)
public class KeyHistoryResource {

    private static final Pattern KID = Pattern.compile("[A-Za-z0-9_-]{43}");

    @Inject
    AuditQueryService queries;

    public record KeyHistory(String kid, List<AuditRecordView> records) {}

    @GET
    @RolesAllowed(Roles.AUDITOR)
    public KeyHistory history(@PathParam("kid") String kid) {
        if (!KID.matcher(kid).matches()) {
            throw ProblemException.notFound("key", kid);
        }
        List<AuditRecordView> records = queries.history(kid);
        // Key rows are kept forever and every key's creation is recorded, so no records means no such key.
        if (records.isEmpty()) {
            throw ProblemException.notFound("key", kid);
        }
        return new KeyHistory(kid, records);
    }
}
