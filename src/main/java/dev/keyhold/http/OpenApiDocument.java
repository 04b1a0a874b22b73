package dev.keyhold.http;

import io.quarkus.smallrye.openapi.OpenApiFilter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.PathItem;
import org.eclipse.microprofile.openapi.models.media.Content;
import org.eclipse.microprofile.openapi.models.media.Schema;
import org.eclipse.microprofile.openapi.models.parameters.Parameter;
import org.eclipse.microprofile.openapi.models.responses.APIResponses;
import org.eclipse.microprofile.openapi.models.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.models.security.SecurityScheme;

/**
 * Makes {@code /q/openapi} true for a generated client: every operation lists the statuses it really
 * answers, every error is a {@code Problem} ({@code application/problem+json}), both authentication schemes are
 * declared (HTTP Basic for embedded mode's principals, bearer JWT from an OIDC provider) and required where they are,
 * and the Vert.x routes the scanner cannot see into (JWKS, event stream, trust documents) are described as they answer
 * instead of as "204". The rules live here, in one table, rather than in annotations spread over every resource.
 */
@OpenApiFilter(OpenApiFilter.RunStage.RUN)
public class OpenApiDocument implements OASFilter {

    static final String PROBLEM = "Problem";
    static final String BASIC = "basicAuth";
    static final String BEARER = "bearerAuth";

    /** Statuses each operation answers beyond the generic ones; "METHOD path" as the document spells the path. */
    private static final Map<String, List<String>> STATUSES = new LinkedHashMap<>();

    static {
        STATUSES.put("POST /v1/issuers", List.of("201", "409", "422"));
        STATUSES.put("GET /v1/issuers/{id}", List.of("200"));
        STATUSES.put("POST /v1/issuers/{id}/rotations", List.of("200", "201", "409", "503"));
        STATUSES.put("POST /v1/issuers/{id}/sign", List.of("200", "409", "422", "429", "503"));
        STATUSES.put("POST /v1/issuers/{id}/suspend", List.of("200", "422"));
        STATUSES.put("POST /v1/issuers/{id}/resume", List.of("200", "201", "409"));
        STATUSES.put("POST /v1/issuers/{id}/policy-changes", List.of("201", "409", "422"));
        STATUSES.put("POST /v1/keys/{kid}/revoke", List.of("200", "409", "422"));
        STATUSES.put("POST /v1/activations/{id}/decisions", List.of("200", "409", "422", "503"));
        STATUSES.put("POST /v1/audit/checkpoints", List.of("201", "503"));
        STATUSES.put("POST /v1/verify", List.of("200", "422", "503"));
        STATUSES.put("GET /issuers/{id}/trust-rollbacks/preview", List.of("200", "404", "409", "422"));
        STATUSES.put("POST /v1/issuers/{id}/trust-rollbacks", List.of("201", "404", "409", "422"));
        STATUSES.put("POST /v1/evidence/ledger/checkpoints", List.of("201", "409", "503"));
        STATUSES.put("POST /v1/evidence/tokens", List.of("200", "422"));
    }

    @Override
    public void filterOpenAPI(OpenAPI api) {
        if (api.getComponents() == null) {
            api.setComponents(OASFactory.createComponents());
        }
        api.getComponents().addSchema(PROBLEM, problemSchema());
        api.getComponents().addSchema("Jwks", jwksSchema());
        api.getComponents().addSchema("CloudEvent", cloudEventSchema());
        api.getComponents()
                .addSecurityScheme(
                        BASIC,
                        OASFactory.createSecurityScheme()
                                .type(SecurityScheme.Type.HTTP)
                                .scheme("basic")
                                .description(
                                        "Embedded mode's demo principals (see docs/operations.md); no users exist in production"));
        api.getComponents()
                .addSecurityScheme(
                        BEARER,
                        OASFactory.createSecurityScheme()
                                .type(SecurityScheme.Type.HTTP)
                                .scheme("bearer")
                                .bearerFormat("JWT")
                                .description("A JWT from the configured OIDC provider; roles from its groups claim"));
        if (api.getPaths() == null) {
            api.setPaths(OASFactory.createPaths());
        }
        describeJwks(api);
        describeStream(api);
        describeTrust(api);
        describeEvents(api);
        api.getPaths()
                .getPathItems()
                .forEach((path, item) ->
                        item.getOperations().forEach((method, op) -> complete(path, method.name(), op)));
    }

    private void complete(String path, String method, Operation op) {
        APIResponses responses = op.getResponses() == null ? OASFactory.createAPIResponses() : op.getResponses();
        op.setResponses(responses);
        boolean secured = path.startsWith("/v1/")
                && !PublicDocuments.matches(path.replace("{", "").replace("}", ""));
        boolean hasBody = op.getRequestBody() != null || method.equals("POST");
        boolean hasPathParam = path.contains("{");
        boolean hasQuery = op.getParameters() != null
                && op.getParameters().stream().anyMatch(p -> p.getIn() == Parameter.In.QUERY);
        if (secured) {
            op.setSecurity(List.of(
                    OASFactory.createSecurityRequirement().addScheme(BASIC),
                    OASFactory.createSecurityRequirement().addScheme(BEARER)));
            add(responses, "401", "Missing, malformed or wrong credentials");
            add(responses, "403", "The role or issuer scope does not allow this (audited)");
        } else {
            op.setSecurity(List.<SecurityRequirement>of());
        }
        if (hasPathParam) {
            add(responses, "404", "No such resource");
        }
        if (hasBody) {
            add(responses, "400", "Malformed JSON, duplicate members, wrong types or unknown fields");
            add(responses, "413", "Body over 64 KiB");
            add(responses, "415", "Not application/json");
        }
        if (hasQuery) {
            add(responses, "400", "Invalid query parameters");
        }
        add(responses, "414", "URI too long");
        add(responses, "431", "Request headers too large");
        add(responses, "503", "Database (or HSM) unavailable; retry after Retry-After seconds");
        for (String status : STATUSES.getOrDefault(method + " " + path, List.of())) {
            add(responses, status, status.startsWith("2") ? "Success" : "Refused");
        }
        // Where the table names the successes, a 2xx the scanner guessed (e.g. 201 for a POST route) goes.
        List<String> listed = STATUSES.getOrDefault(method + " " + path, List.of());
        if (listed.stream().anyMatch(x -> x.startsWith("2"))) {
            List.copyOf(responses.getAPIResponses().keySet()).stream()
                    .filter(x -> x.startsWith("2") && !listed.contains(x))
                    .forEach(responses::removeAPIResponse);
        }
        // Every error is a problem document.
        responses.getAPIResponses().forEach((status, r) -> {
            if (status.startsWith("4") || status.startsWith("5")) {
                r.setContent(OASFactory.createContent()
                        .addMediaType(
                                "application/problem+json",
                                OASFactory.createMediaType().schema(ref(PROBLEM))));
            }
        });
    }

    private static void add(APIResponses responses, String status, String description) {
        if (responses.getAPIResponse(status) == null) {
            responses.addAPIResponse(status, OASFactory.createAPIResponse().description(description));
        }
    }

    private static void describeJwks(OpenAPI api) {
        Operation op = OASFactory.createOperation()
                .operationId("jwks")
                .addTag("Public documents")
                .summary("An issuer's JWKS")
                .description(
                        "PENDING, ACTIVE and not yet expired RETIRED keys of this issuer only. Strong ETag, 304 on "
                                + "If-None-Match, Cache-Control public max-age. HEAD answers like GET without the body; any origin may "
                                + "read it (CORS).")
                .addParameter(pathParam("id", "issuer id"))
                .addParameter(OASFactory.createParameter()
                        .name("If-None-Match")
                        .in(Parameter.In.HEADER)
                        .schema(OASFactory.createSchema().addType(Schema.SchemaType.STRING)))
                .responses(OASFactory.createAPIResponses()
                        .addAPIResponse(
                                "200",
                                OASFactory.createAPIResponse()
                                        .description("The key set")
                                        .addHeader(
                                                "ETag",
                                                OASFactory.createHeader().schema(string()))
                                        .addHeader(
                                                "Cache-Control",
                                                OASFactory.createHeader().schema(string()))
                                        .content(json("application/json", ref("Jwks"))))
                        .addAPIResponse(
                                "304", OASFactory.createAPIResponse().description("Not modified since the ETag"))
                        .addAPIResponse("404", OASFactory.createAPIResponse().description("Unknown issuer")));
        replace(api, "/issuers/{id}/.well-known/jwks.json", op);
    }

    private static void describeStream(OpenAPI api) {
        Operation op = OASFactory.createOperation()
                .operationId("eventStream")
                .addTag("Public documents")
                .summary("The event feed as Server-Sent Events")
                .description("id: <seq>, event: <type>, data: <CloudEvent JSON>, heartbeat comments. Resume with "
                        + "Last-Event-ID or ?after=; with neither, the events committed after connecting.")
                .addParameter(OASFactory.createParameter()
                        .name("after")
                        .in(Parameter.In.QUERY)
                        .schema(OASFactory.createSchema()
                                .addType(Schema.SchemaType.INTEGER)
                                .minimum(java.math.BigDecimal.ZERO)))
                .addParameter(OASFactory.createParameter()
                        .name("Last-Event-ID")
                        .in(Parameter.In.HEADER)
                        .schema(string()))
                .responses(OASFactory.createAPIResponses()
                        .addAPIResponse(
                                "200",
                                OASFactory.createAPIResponse()
                                        .description("The stream (never ends)")
                                        .content(json("text/event-stream", string())))
                        .addAPIResponse(
                                "400",
                                OASFactory.createAPIResponse()
                                        .description("after or Last-Event-ID is not a sequence number")));
        replace(api, "/v1/events/stream", op);
    }

    /** The trust-bundle Vert.x routes: compact JWS documents and the trust anchor's JWKs. */
    private static void describeTrust(OpenAPI api) {
        replace(
                api,
                "/issuers/{id}/trust-bundle",
                trustDocument("trustBundle", "An issuer's newest signed trust bundle", "application/jwt", true)
                        .addParameter(pathParam("id", "issuer id")));
        replace(
                api,
                "/issuers/{id}/trust-bundles/{sequence}",
                trustDocument(
                                "trustBundleBySequence",
                                "One earlier trust bundle, byte for byte",
                                "application/jwt",
                                true)
                        .addParameter(pathParam("id", "issuer id"))
                        .addParameter(pathParam("sequence", "bundle sequence")));
        replace(
                api,
                "/v1/trust-anchor",
                trustDocument("trustAnchor", "The trust key's public JWKs, to pin", "application/json", false));
    }

    private static Operation trustDocument(String id, String summary, String mediaType, boolean perIssuer) {
        APIResponses r = OASFactory.createAPIResponses()
                .addAPIResponse(
                        "200",
                        OASFactory.createAPIResponse()
                                .description(summary)
                                .addHeader("ETag", OASFactory.createHeader().schema(string()))
                                .content(json(mediaType, string())))
                .addAPIResponse("304", OASFactory.createAPIResponse().description("Not modified since the ETag"))
                .addAPIResponse(
                        "503",
                        OASFactory.createAPIResponse()
                                .description("Trust data cannot be loaded now")
                                .content(json("application/problem+json", ref("Problem"))));
        if (perIssuer) {
            r.addAPIResponse(
                    "404",
                    OASFactory.createAPIResponse()
                            .description("Unknown issuer or no signed bundle yet")
                            .content(json("application/problem+json", ref("Problem"))));
        }
        return OASFactory.createOperation()
                .operationId(id)
                .addTag("Public documents")
                .summary(summary)
                .description("HEAD answers like GET without the body; any origin may read it (CORS).")
                .responses(r);
    }

    private static void describeEvents(OpenAPI api) {
        PathItem item = api.getPaths().getPathItem("/v1/events");
        if (item == null || item.getGET() == null) {
            return;
        }
        APIResponses r = item.getGET().getResponses() == null
                ? OASFactory.createAPIResponses()
                : item.getGET().getResponses();
        r.addAPIResponse(
                "200",
                OASFactory.createAPIResponse()
                        .description("Events after `after`, in commit order (CloudEvents JSON batch)")
                        .content(json(
                                "application/json",
                                OASFactory.createSchema()
                                        .addType(Schema.SchemaType.ARRAY)
                                        .items(ref("CloudEvent")))));
        item.getGET().setResponses(r);
    }

    private static void replace(OpenAPI api, String path, Operation get) {
        api.getPaths().removePathItem(path);
        api.getPaths().addPathItem(path, OASFactory.createPathItem().GET(get));
    }

    private static Parameter pathParam(String name, String description) {
        return OASFactory.createParameter()
                .name(name)
                .in(Parameter.In.PATH)
                .required(true)
                .description(description)
                .schema(string());
    }

    private static Content json(String mediaType, Schema schema) {
        return OASFactory.createContent()
                .addMediaType(mediaType, OASFactory.createMediaType().schema(schema));
    }

    private static Schema ref(String name) {
        return OASFactory.createSchema().ref("#/components/schemas/" + name);
    }

    private static Schema string() {
        return OASFactory.createSchema().addType(Schema.SchemaType.STRING);
    }

    private static Schema problemSchema() {
        return OASFactory.createSchema()
                .addType(Schema.SchemaType.OBJECT)
                .description("RFC 9457 problem details")
                .addProperty("type", string().description("urn:keyhold:problem:<slug>"))
                .addProperty("title", string())
                .addProperty("status", OASFactory.createSchema().addType(Schema.SchemaType.INTEGER))
                .addProperty("detail", string())
                .addProperty("instance", string())
                .addProperty(
                        "errors",
                        OASFactory.createSchema()
                                .addType(Schema.SchemaType.ARRAY)
                                .description("422: each field at fault")
                                .items(OASFactory.createSchema()
                                        .addType(Schema.SchemaType.OBJECT)
                                        .addProperty("field", string())
                                        .addProperty("message", string())))
                .required(List.of("type", "title", "status"));
    }

    private static Schema jwksSchema() {
        return OASFactory.createSchema()
                .addType(Schema.SchemaType.OBJECT)
                .addProperty(
                        "keys",
                        OASFactory.createSchema()
                                .addType(Schema.SchemaType.ARRAY)
                                .items(OASFactory.createSchema()
                                        .addType(Schema.SchemaType.OBJECT)
                                        .description("A public JWK: kty, kid, use \"sig\", alg and the key parameters")
                                        .addProperty("kty", string())
                                        .addProperty("kid", string())
                                        .addProperty("use", string())
                                        .addProperty("alg", string())
                                        .additionalPropertiesBoolean(Boolean.TRUE)))
                .required(List.of("keys"));
    }

    private static Schema cloudEventSchema() {
        return OASFactory.createSchema()
                .addType(Schema.SchemaType.OBJECT)
                .description("CloudEvents 1.0, structured JSON")
                .addProperty("specversion", string())
                .addProperty("id", string())
                .addProperty("source", string())
                .addProperty("type", string())
                .addProperty("subject", string())
                .addProperty("time", string())
                .addProperty("datacontenttype", string())
                .addProperty("keyholdissuer", string())
                .addProperty("data", OASFactory.createSchema().addType(Schema.SchemaType.OBJECT));
    }
}
