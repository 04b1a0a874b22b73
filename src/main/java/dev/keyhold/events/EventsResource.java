package dev.keyhold.events;

import dev.keyhold.audit.QueryParams;
import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code GET /v1/events?after=&limit=}: public, the lifecycle events after a sequence number, in commit order. The
 * body is the CloudEvents JSON batch format (a JSON array of structured-mode events); a poller passes the last
 * {@code id} it saw as the next {@code after}. An empty array means "nothing new yet".
 */
@Path("/v1/events")
@PermitAll
public class EventsResource {

    /** The CloudEvents batch media type; served as application/json, which every client parses. */
    static final String MEDIA_TYPE = "application/json";

    @Inject
    OutboxReader reader;

    @GET
    public Response events(@QueryParam("after") String after, @QueryParam("limit") String limit) {
        QueryParams p = new QueryParams();
        long from = p.seq("after", after);
        int n = p.limit(limit, 100);
        p.done();
        List<OutboxEvent> events = reader.after(from, n);
        String body = events.stream().map(OutboxEvent::toCloudEventJson).collect(Collectors.joining(",", "[", "]"));
        return Response.ok(body, MEDIA_TYPE).header("Cache-Control", "no-store").build();
    }
}
