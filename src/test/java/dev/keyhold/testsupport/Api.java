package dev.keyhold.testsupport;

import static io.restassured.RestAssured.given;

import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Shorthands for calling Keyhold as the demo principals. */
public final class Api {

    public static final String PASSWORD = "keyhold-dev";
    private static final AtomicInteger SEQ = new AtomicInteger();

    private Api() {}

    public static RequestSpecification as(String user) {
        return given().auth().preemptive().basic(user, PASSWORD).contentType(ContentType.JSON);
    }

    /** {@code POST /v1/issuers/{issuerId}/sign} as {@code user} with {@code body}. */
    public static Response sign(String user, String issuerId, Object body) {
        return as(user).body(body).post("/v1/issuers/" + issuerId + "/sign");
    }

    public static RequestSpecification anonymous() {
        return given().contentType(ContentType.JSON);
    }

    /** A fresh issuer id: the database is shared by every test in the JVM. */
    public static String uniqueId(String prefix) {
        return prefix + "-" + ProcessHandle.current().pid() % 1000 + "-" + SEQ.incrementAndGet() + "-"
                + Long.toHexString(System.nanoTime() & 0xffffff);
    }

    /** A valid issuer definition; tests change what they need. */
    public static Map<String, Object> issuerBody(String id) {
        Map<String, Object> b = new HashMap<>();
        b.put("id", id);
        b.put("issuerUri", "https://" + id + ".test.example");
        b.put("partition", "default");
        b.put("algorithm", "ES256");
        b.put("audiences", new ArrayList<>(List.of("api://" + id)));
        b.put("custodians", new ArrayList<>(List.of("alice", "bob", "carol")));
        b.put("approvalsRequired", 2);
        b.put("signers", new ArrayList<>(List.of("signer")));
        b.put("rotationPeriod", "P30D");
        b.put("publishLead", "PT2H");
        b.put("tokenTtl", "PT1H");
        b.put("activeDeadline", "P45D");
        b.put("destroyGrace", "P7D");
        b.put("approvalTtl", "P2D");
        return b;
    }

    /** Creates an issuer (as admin) and returns its id. */
    public static String createIssuer(Map<String, Object> body) {
        as("admin").body(body).post("/v1/issuers").then().statusCode(201);
        return (String) body.get("id");
    }

    public static String createIssuer(String prefix) {
        return createIssuer(issuerBody(uniqueId(prefix)));
    }

    /** Rotates (as scheduler) and returns the new or pending kid. */
    public static String rotate(String issuerId) {
        return as("scheduler")
                .body("{}")
                .post("/v1/issuers/" + issuerId + "/rotations")
                .then()
                .statusCode(org.hamcrest.Matchers.anyOf(org.hamcrest.Matchers.is(201), org.hamcrest.Matchers.is(200)))
                .extract()
                .path("kid");
    }

    /**
     * A decision body of {@code user}: for "approve", signed over the request's statement with the user's test key
     * ({@link CustodianKeys}, as {@code ssh-keygen -Y sign -n keyhold-approval} would); when the statement cannot be
     * read (not a custodian of the issuer) the approval goes without a signature and is refused for that reason.
     */
    public static Map<String, Object> decisionBody(String user, String request, String decision, String comment) {
        Map<String, Object> body = new HashMap<>();
        body.put("decision", decision);
        if (comment != null) {
            body.put("comment", comment);
        }
        if ("approve".equals(decision)) {
            Map<String, Object> sig = signature(user, request);
            if (sig != null) {
                body.put("signature", sig);
            }
        }
        return body;
    }

    /** The user's SSH signature object over the request's statement, or null when the statement is not readable. */
    public static Map<String, Object> signature(String user, String request) {
        byte[] statement = STATEMENTS.get(request);
        if (statement == null) {
            Response st = as(user).get("/v1/activations/" + request + "/statement");
            if (st.statusCode() != 200) {
                return null;
            }
            statement = st.asByteArray();
            // a request's statement never changes: later approvals of it sign the same bytes
            STATEMENTS.put(request, statement);
        }
        return Map.of("format", "sshsig", "value", CustodianKeys.sign(user, "keyhold-approval", statement));
    }

    private static final Map<String, byte[]> STATEMENTS = new java.util.concurrent.ConcurrentHashMap<>();

    /** {@code POST /v1/activations/{request}/decisions} as {@code user} (approvals signed, see {@link #decisionBody}). */
    public static Response decide(String user, String request, String decision, String comment) {
        return as(user).body(decisionBody(user, request, decision, comment))
                .post("/v1/activations/" + request + "/decisions");
    }

    /** A signed approval by {@code user}. */
    public static Response approve(String user, String request) {
        return decide(user, request, "approve", null);
    }

    static {
        RestAssured.enableLoggingOfRequestAndResponseIfValidationFails();
    }
}
