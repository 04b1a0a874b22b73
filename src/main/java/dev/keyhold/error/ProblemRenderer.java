package dev.keyhold.error;

import jakarta.ws.rs.core.Response;

/** Renders a {@link Failure} for machines: an RFC 9457 problem document. */
public final class ProblemRenderer {

    private ProblemRenderer() {}

    public static Response render(Failure f, String instance) {
        Response.ResponseBuilder b = Response.status(f.status())
                .type(Problem.MEDIA_TYPE)
                .entity(new Problem(
                        Problem.typeUri(f.slug()),
                        f.title(),
                        f.status(),
                        f.detail(),
                        instance,
                        f.extensions().isEmpty() ? null : f.extensions()));
        f.headers().forEach(b::header);
        if (f.status() == 503 && !f.headers().containsKey("Retry-After")) {
            b.header("Retry-After", Problem.RETRY_AFTER_SECONDS);
        }
        return b.build();
    }

    /** The same document as a JSON string, for the HTTP layer below JAX-RS (route filters, the failure handler). */
    public static String json(Failure f, String instance) {
        io.vertx.core.json.JsonObject body = new io.vertx.core.json.JsonObject()
                .put("type", Problem.typeUri(f.slug()))
                .put("title", f.title())
                .put("status", f.status())
                .put("detail", f.detail());
        if (instance != null) {
            body.put("instance", instance);
        }
        f.extensions().forEach(body::put);
        return body.encode();
    }
}
