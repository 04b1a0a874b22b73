package dev.keyhold.rotation;

import static dev.keyhold.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import com.nimbusds.jose.jwk.JWK;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Sql;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@QuarkusTest
class RotationApiTest {

    @Inject
    HsmPort hsm;

    @Inject
    Sql sql;

    @ParameterizedTest
    @ValueSource(strings = {"ES256", "ES384", "RS256", "PS256"})
    void rotationMakesAPendingHsmKeyWhoseKidIsItsThumbprint(String alg) throws Exception {
        Map<String, Object> body = Api.issuerBody(Api.uniqueId("rot"));
        body.put("algorithm", alg);
        String id = Api.createIssuer(body);
        Response r = as("scheduler").body("{\"reason\":\"first key\"}").post("/v1/issuers/" + id + "/rotations");
        r.then()
                .statusCode(201)
                .body("state", equalTo("PENDING"))
                .body("algorithm", equalTo(alg))
                .body("activatableAt", notNullValue())
                .body("activationRequestId", notNullValue());
        String kid = r.path("kid");
        Map<String, Object> jwk = r.path("publicJwk");
        JWK parsed = JWK.parse(jwk);
        assertThat(parsed.isPrivate()).isFalse();
        assertThat(jwk).doesNotContainKeys("d", "p", "q", "dp", "dq", "qi");
        assertThat(parsed.computeThumbprint().toString()).isEqualTo(kid);
        assertThat(parsed.getKeyID()).isEqualTo(kid);
        // the private key is in the issuer's partition and only there
        String handle = (String) sql.one("select hsm_handle from signing_key where kid = ?", kid);
        assertThat(hsm.list("default")).contains(handle);
        assertThat(hsm.list("east")).doesNotContain(handle);
        java.security.PublicKey fromJwk = parsed instanceof com.nimbusds.jose.jwk.ECKey ec
                ? ec.toPublicKey()
                : ((com.nimbusds.jose.jwk.RSAKey) parsed).toPublicKey();
        assertThat(fromJwk.getEncoded())
                .isEqualTo(hsm.publicKey("default", handle).getEncoded());
    }

    @Test
    void rotationIsIdempotentWhileAKeyIsPending() {
        String id = Api.createIssuer("idem");
        String kid = as("scheduler")
                .body("{}")
                .post("/v1/issuers/" + id + "/rotations")
                .then()
                .statusCode(201)
                .extract()
                .path("kid");
        as("admin")
                .body("{}")
                .post("/v1/issuers/" + id + "/rotations")
                .then()
                .statusCode(200)
                .body("kid", equalTo(kid));
        as("scheduler")
                .post("/v1/issuers/" + id + "/rotations")
                .then()
                .statusCode(200)
                .body("kid", equalTo(kid));
        assertThat(sql.count("select count(*) from signing_key where issuer_id = ?", id))
                .isEqualTo(1);
        assertThat(sql.count("select count(*) from activation_request where issuer_id = ? and state = 'OPEN'", id))
                .isEqualTo(1);
    }

    @Test
    void concurrentRotationsMakeExactlyOneKey() throws Exception {
        String id = Api.createIssuer("race");
        int before = hsm.list("default").size();
        ExecutorService pool = Executors.newFixedThreadPool(12);
        try {
            List<Callable<Response>> calls = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                String who = i % 2 == 0 ? "scheduler" : "admin";
                calls.add(() -> as(who).body("{}").post("/v1/issuers/" + id + "/rotations"));
            }
            List<Integer> statuses = new ArrayList<>();
            List<String> kids = new ArrayList<>();
            for (Future<Response> f : pool.invokeAll(calls)) {
                statuses.add(f.get().statusCode());
                kids.add(f.get().path("kid"));
            }
            assertThat(statuses).containsOnly(200, 201);
            assertThat(statuses.stream().filter(s -> s == 201)).hasSize(1);
            assertThat(kids).containsOnly(kids.get(0));
        } finally {
            pool.shutdownNow();
        }
        assertThat(sql.count("select count(*) from signing_key where issuer_id = ?", id))
                .isEqualTo(1);
        assertThat(hsm.list("default").size()).isEqualTo(before + 1);
    }

    @Test
    void rotationNeedsSchedulerOrAdminAndAKnownIssuer() {
        String id = Api.createIssuer("rotauth");
        for (String who : List.of("alice", "signer", "auditor")) {
            as(who).body("{}").post("/v1/issuers/" + id + "/rotations").then().statusCode(403);
        }
        Api.anonymous()
                .body("{}")
                .post("/v1/issuers/" + id + "/rotations")
                .then()
                .statusCode(401);
        as("scheduler")
                .body("{}")
                .post("/v1/issuers/no-such-issuer/rotations")
                .then()
                .statusCode(404)
                .contentType("application/problem+json");
        assertThat(sql.count("select count(*) from signing_key where issuer_id = ?", id))
                .isZero();
    }
}
