package dev.keyhold.ratelimit;

import dev.keyhold.error.Problem;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** The 429 problem with its {@code Retry-After} header (the shared mappers carry no headers). */
public class RateLimitedMapper {

    @ServerExceptionMapper
    public Response rateLimited(RateLimitedException e, UriInfo uri) {
        return Response.status(429)
                .type(Problem.MEDIA_TYPE)
                .header("Retry-After", Long.toString(e.retryAfterSeconds()))
                .entity(new Problem(Problem.typeUri(e.slug()), e.title(), 429, e.getMessage(),
                        uri == null ? null : uri.getPath(), e.extensions()))
                .build();
    }
}
