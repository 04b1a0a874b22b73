package dev.keyhold.security;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.StateFingerprint;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every endpoint × every kind of caller → 2xx, 401 or 403; a refused call changes nothing. Custodian and signer
 * rights are per issuer, so each has two callers: one the issuer names and one it does not.
 *
 * <p>To cover a new endpoint, add one {@link Row} to {@link #ROWS}: method, path (placeholders {issuer}, {kid},
 * {request} are filled from a fresh fixture), body, the callers that get a 2xx, and optionally a setup step.
 * Everyone else must get 403 (401 without credentials).
 */
@QuarkusTest
class AuthorizationMatrixTest {

    /** The callers. The fixture issuer names alice (of alice, bob, carol) as custodian and signer as signer. */
    enum Caller {
        ADMIN("admin"),
        CUSTODIAN_OF_ISSUER("alice"),
        CUSTODIAN_NOT_OF_ISSUER("mallory"),
        SCHEDULER("scheduler"),
        SIGNER_OF_ISSUER("signer"),
        SIGNER_NOT_OF_ISSUER("signer2"),
        AUDITOR("auditor"),
        NO_CREDENTIALS(null);

        final String principal;

        Caller(String principal) {
            this.principal = principal;
        }

        RequestSpecification spec() {
            return principal == null ? RestAssured.given().contentType(ContentType.JSON) : as(principal);
        }
    }

    /** A fresh issuer with custodians alice, bob, carol (M=2), signer "signer", one PENDING key and its OPEN request. */
    record Fixture(String issuer, String kid, String request) {}

    record Row(
            String method, String path, Function<Fixture, String> body, Set<Caller> allowed, Consumer<Fixture> setup) {

        Row(String method, String path, Function<Fixture, String> body, Set<Caller> allowed) {
            this(method, path, body, allowed, f -> {});
        }

        String resolve(Fixture f) {
            return path.replace("{issuer}", f.issuer())
                    .replace("{kid}", f.kid())
                    .replace("{request}", f.request());
        }

        @Override
        public String toString() {
            return method + " " + path;
        }
    }

    static final Set<Caller> ANY_ROLE = EnumSet.complementOf(EnumSet.of(Caller.NO_CREDENTIALS));
    static final Set<Caller> EVERYONE = EnumSet.allOf(Caller.class);
    static final Set<Caller> ISSUER_GUARDIANS = EnumSet.of(Caller.ADMIN, Caller.CUSTODIAN_OF_ISSUER);

    static Function<Fixture, String> none() {
        return f -> null;
    }

    static Function<Fixture, String> json(String body) {
        return f -> body;
    }

    static final List<Row> ROWS = List.of(
            new Row(
                    "POST",
                    "/v1/issuers",
                    f -> "{\"id\":\"" + f.issuer() + "-new\",\"issuerUri\":\"https://" + f.issuer()
                            + "-new.test.example\",\"audiences\":[\"a\"],\"custodians\":[\"alice\",\"bob\"],\"publishLead\":\"PT2H\"}",
                    EnumSet.of(Caller.ADMIN)),
            new Row("GET", "/v1/issuers", none(), ANY_ROLE),
            new Row("GET", "/v1/issuers/{issuer}", none(), ANY_ROLE),
            new Row("POST", "/v1/issuers/{issuer}/rotations", json("{}"), EnumSet.of(Caller.ADMIN, Caller.SCHEDULER)),
            new Row("GET", "/v1/issuers/{issuer}/keys", none(), ANY_ROLE),
            new Row("GET", "/v1/keys/{kid}", none(), ANY_ROLE),
            new Row("POST", "/v1/keys/{kid}/revoke", json("{\"reason\":\"matrix\"}"), ISSUER_GUARDIANS),
            new Row(
                    "GET",
                    "/v1/activations",
                    none(),
                    EnumSet.of(
                            Caller.ADMIN, Caller.AUDITOR, Caller.CUSTODIAN_OF_ISSUER, Caller.CUSTODIAN_NOT_OF_ISSUER)),
            new Row(
                    "GET",
                    "/v1/activations?issuer={issuer}&state=OPEN",
                    none(),
                    EnumSet.of(Caller.ADMIN, Caller.AUDITOR, Caller.CUSTODIAN_OF_ISSUER)),
            new Row(
                    "GET",
                    "/v1/activations/{request}",
                    none(),
                    EnumSet.of(Caller.ADMIN, Caller.AUDITOR, Caller.CUSTODIAN_OF_ISSUER)),
            new Row(
                    "GET",
                    "/v1/activations/{request}/statement",
                    none(),
                    EnumSet.of(Caller.ADMIN, Caller.AUDITOR, Caller.CUSTODIAN_OF_ISSUER)),
            new Row("GET", "/v1/issuers/{issuer}/policy", none(), ANY_ROLE),
            new Row("GET", "/v1/issuers/{issuer}/policy/1", none(), ANY_ROLE),
            new Row(
                    "POST",
                    "/v1/custodians/me/credentials/challenges",
                    json("{}"),
                    EnumSet.of(Caller.CUSTODIAN_OF_ISSUER, Caller.CUSTODIAN_NOT_OF_ISSUER)),
            new Row(
                    "GET",
                    "/v1/custodians/me/credentials",
                    none(),
                    EnumSet.of(Caller.CUSTODIAN_OF_ISSUER, Caller.CUSTODIAN_NOT_OF_ISSUER)),
            // signed by alice (the custodian of the issuer) over the request's statement; refused callers are refused
            // before the signature is looked at
            new Row(
                    "POST",
                    "/v1/activations/{request}/decisions",
                    f -> toJson(Map.of("decision", "approve", "signature", Api.signature("alice", f.request()))),
                    EnumSet.of(Caller.CUSTODIAN_OF_ISSUER)),
            new Row("POST", "/v1/issuers/{issuer}/suspend", json("{\"reason\":\"matrix\"}"), ISSUER_GUARDIANS),
            new Row(
                    "POST",
                    "/v1/issuers/{issuer}/resume",
                    json("{}"),
                    ISSUER_GUARDIANS,
                    f -> as("admin")
                            .post("/v1/issuers/" + f.issuer() + "/suspend")
                            .then()
                            .statusCode(200)),
            new Row("POST", "/v1/issuers/{issuer}/policy-changes", json("{\"tokenTtl\":\"PT30M\"}"), ISSUER_GUARDIANS),
            new Row("GET", "/issuers/{issuer}/.well-known/jwks.json", none(), EVERYONE),
            new Row("GET", "/issuers/{issuer}/.well-known/keyhold-issuer.json", none(), EVERYONE),
            new Row("GET", "/issuers/{issuer}/trust-bundle", none(), EVERYONE),
            new Row("GET", "/issuers/{issuer}/trust-bundles/1", none(), EVERYONE),
            new Row("GET", "/issuers/{issuer}/trust-rollbacks/preview?toSequence=1", none(), EVERYONE),
            new Row("GET", "/v1/trust-anchor", none(), EVERYONE),
            new Row("POST", "/v1/issuers/{issuer}/trust-rollbacks", json("{\"toSequence\":1}"), ISSUER_GUARDIANS),
            new Row(
                    "POST",
                    "/v1/issuers/{issuer}/sign",
                    f -> "{\"claims\":{\"aud\":\"api://" + f.issuer() + "\"}}",
                    EnumSet.of(Caller.SIGNER_OF_ISSUER),
                    f -> AuthorizationMatrixTest.lifecycle.activeKey(f.issuer())),
            new Row("POST", "/v1/verify", json("{\"token\":\"a.b.c\"}"), ANY_ROLE),
            new Row("GET", "/v1/events?after=0&limit=5", none(), EVERYONE),
            new Row("GET", "/v1/audit?issuer={issuer}", none(), EnumSet.of(Caller.AUDITOR)),
            new Row("GET", "/v1/audit/verify", none(), EnumSet.of(Caller.AUDITOR)),
            new Row("POST", "/v1/audit/checkpoints", json("{}"), EnumSet.of(Caller.AUDITOR, Caller.ADMIN)),
            new Row("GET", "/v1/keys/{kid}/history", none(), EnumSet.of(Caller.AUDITOR)),
            // evidence: reports are for the validator role alone, which no caller here holds
            new Row("GET", "/v1/audit/export?from=2999-01-01T00:00:00Z", none(), EnumSet.of(Caller.AUDITOR)),
            new Row("POST", "/v1/evidence/tokens", json("{\"tokens\":[\"a.b.c\"]}"), EnumSet.of(Caller.AUDITOR)),
            new Row("GET", "/v1/evidence/ledger/export?from=2999-01-01T00:00:00Z", none(), EnumSet.of(Caller.AUDITOR)),
            new Row(
                    "POST",
                    "/v1/evidence/reports",
                    json("{\"accepted\":[{\"token\":\"a.b.c\"}]}"),
                    EnumSet.noneOf(Caller.class)));

    static String toJson(Object o) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Rows are static; setups that need CDI beans reach them through here (set before each case). */
    static volatile Lifecycle lifecycle;

    @Inject
    Lifecycle lifecycleBean;

    @org.junit.jupiter.api.BeforeEach
    void exposeBeans() {
        lifecycle = lifecycleBean;
    }

    static Stream<Arguments> cases() {
        return ROWS.stream().flatMap(row -> Arrays.stream(Caller.values()).map(c -> Arguments.of(row, c)));
    }

    @Inject
    Sql sql;

    @Inject
    StateFingerprint fingerprint;

    private static Fixture shared;

    /** Reads change nothing, so they share one fixture; every write gets a fresh one. */
    Fixture fixtureFor(Row row) {
        if (!row.method().equals("GET")) {
            return fixture();
        }
        synchronized (AuthorizationMatrixTest.class) {
            if (shared == null) {
                shared = fixture();
            }
            return shared;
        }
    }

    Fixture fixture() {
        String id = Api.createIssuer("matrix");
        String kid = Api.rotate(id);
        String request =
                (String) sql.one("select id::text from activation_request where kid = ? and state = 'OPEN'", kid);
        return new Fixture(id, kid, request);
    }

    @ParameterizedTest(name = "{0} as {1}")
    @MethodSource("cases")
    void eachCallerGetsWhatTheTableSays(Row row, Caller caller) {
        Fixture f = fixtureFor(row);
        row.setup().accept(f);
        String before = fingerprint.of(f.issuer());
        RequestSpecification spec = caller.spec();
        String body = row.body().apply(f);
        if (body != null) {
            spec = spec.body(body);
        }
        Response r = spec.request(row.method(), row.resolve(f));

        if (row.allowed().contains(caller)) {
            assertThat(r.statusCode())
                    .as("%s as %s: %s", row, caller, r.asString())
                    .isBetween(200, 299);
            return;
        }
        int expected = caller == Caller.NO_CREDENTIALS ? 401 : 403;
        assertThat(r.statusCode()).as("%s as %s: %s", row, caller, r.asString()).isEqualTo(expected);
        assertThat(r.contentType()).startsWith("application/problem+json");
        if (expected == 401) {
            assertThat(r.header("WWW-Authenticate")).isNotBlank();
        }
        assertThat(fingerprint.of(f.issuer()))
                .as("a refused call changes nothing")
                .isEqualTo(before);
        assertThat(sql.count("select count(*) from issuer where id = ?", f.issuer() + "-new"))
                .isZero();
    }
}
