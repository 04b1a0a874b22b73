package dev.keyhold.validator;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Tokens.claims;
import static dev.keyhold.testsupport.Tokens.header;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.Tokens;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The conformance corpus: tokens made against this real Keyhold (HSM-signed, real revocation, retirement and kill
 * switch), each with its expected verdict. {@code POST /v1/verify} and the library, following this instance's
 * event feed over real HTTP, must both give exactly that verdict for every fixture. The corpus is also written to
 * {@code target/conformance-corpus.json} (token, expected reason) for other validators to replay.
 */
@QuarkusTest
class ConformanceCorpusTest {

    @Inject
    Lifecycle lifecycle;

    @Inject
    MutableClock clock;

    @Inject
    Tokens tokens;

    @Inject
    Sql sql;

    @TestHTTPResource("/")
    URL base;

    record Fixture(String name, String token, String expected) {}

    @AfterEach
    void resetClock() {
        clock.reset();
    }

    @Test
    void theServerAndTheLibraryGiveTheSameVerdictOnEveryFixture() throws Exception {
        Map<String, String> byAlg = new LinkedHashMap<>();
        for (String alg : List.of("ES256", "ES384", "RS256", "PS256")) {
            Map<String, Object> body = Api.issuerBody(Api.uniqueId("conf-" + alg.toLowerCase()));
            body.put("algorithm", alg);
            byAlg.put(alg, Api.createIssuer(body));
        }
        String a = byAlg.get("ES256");
        String b = Api.createIssuer("conf-b");
        String revokedIssuer = Api.createIssuer("conf-rev");
        String retiredIssuer = Api.createIssuer("conf-ret");
        String suspendedIssuer = Api.createIssuer("conf-susp");
        List<String> all = new ArrayList<>(byAlg.values());
        all.addAll(List.of(b, revokedIssuer, retiredIssuer, suspendedIssuer));
        Map<String, String> kids = new LinkedHashMap<>();
        for (String id : all) {
            kids.put(id, lifecycle.activeKey(id));
        }

        KeyholdValidator.Builder builder =
                KeyholdValidator.builder(base.toURI()).clock(clock);
        all.forEach(id -> builder.trust(id, Set.of("api://" + id)));
        try (KeyholdValidator v = builder.build()) {
            // Changes made while the library follows the feed: retirement, revocation, the kill switch.
            String retiredKid = kids.get(retiredIssuer);
            String retiredToken = tokens.forge(
                    retiredKid,
                    header("ES256", retiredKid),
                    tokens.payload(retiredIssuer, clock.instant().getEpochSecond()));
            lifecycle.activeKey(retiredIssuer); // activates the successor, retiring the first key
            clock.advance(Duration.ofHours(1).plusMinutes(1)); // past verifyUntil = retiredAt + tokenTtl (1 h)
            Instant t = clock.instant();
            clock.freezeAt(t);
            long now = t.getEpochSecond();

            String revokedToken = Tokens.sign(revokedIssuer, claims(revokedIssuer));
            as("alice")
                    .body("{\"reason\":\"conformance\"}")
                    .post("/v1/keys/" + kids.get(revokedIssuer) + "/revoke")
                    .then()
                    .statusCode(200);
            String suspendedToken = Tokens.sign(suspendedIssuer, claims(suspendedIssuer));
            as("admin")
                    .body("{\"reason\":\"conformance\"}")
                    .post("/v1/issuers/" + suspendedIssuer + "/suspend")
                    .then()
                    .statusCode(200);

            List<Fixture> corpus = corpus(byAlg, a, b, kids, now);
            corpus.add(new Fixture("revoked-key", revokedToken, "key_not_usable"));
            corpus.add(new Fixture("retired-past-verify-until", retiredToken, "key_not_usable"));
            corpus.add(new Fixture("suspended-issuer", suspendedToken, "issuer_not_allowed"));

            long head = ((Number) sql.one("select max(seq) from outbox_event")).longValue();
            await().atMost(Duration.ofSeconds(20)).until(() -> v.feedStatus().lastEventId() >= head);

            List<String> mismatches = new ArrayList<>();
            for (Fixture f : corpus) {
                String server = Tokens.verdict(f.token());
                Verdict lib = v.validate(f.token());
                String library = lib.valid() ? null : lib.reason();
                if (!java.util.Objects.equals(f.expected(), server)
                        || !java.util.Objects.equals(f.expected(), library)) {
                    mismatches.add(f.name() + ": expected " + f.expected() + ", /v1/verify " + server + ", library "
                            + library);
                }
            }
            assertThat(mismatches).isEmpty();
            assertThat(corpus).hasSizeGreaterThanOrEqualTo(30);
            write(corpus);
        }
    }

    private List<Fixture> corpus(Map<String, String> byAlg, String a, String b, Map<String, String> kids, long now)
            throws Exception {
        List<Fixture> c = new ArrayList<>();
        byAlg.forEach((alg, id) -> c.add(new Fixture("good-" + alg, Tokens.sign(id, claims(id)), null)));
        String kidA = kids.get(a);
        Map<String, Object> pa = tokens.payload(a, now);
        c.add(new Fixture("good-forged-by-hsm-key", tokens.forge(kidA, header("ES256", kidA), pa), null));
        c.add(new Fixture(
                "cross-issuer-kid",
                tokens.forge(kidA, header("ES256", kidA), tokens.payload(b, now)),
                "kid_not_bound_to_issuer"));
        c.add(new Fixture(
                "unknown-kid", tokens.forge(kidA, header("ES256", "x".repeat(43)), pa), "kid_not_bound_to_issuer"));
        Map<String, Object> noKid = header("ES256", kidA);
        noKid.remove("kid");
        c.add(new Fixture("no-kid", tokens.forge(kidA, noKid, pa), "kid_not_bound_to_issuer"));
        Map<String, Object> foreign = new LinkedHashMap<>(pa);
        foreign.put("iss", "https://nobody.example");
        c.add(new Fixture("foreign-iss", tokens.forge(kidA, header("ES256", kidA), foreign), "issuer_not_allowed"));
        Map<String, Object> noIss = new LinkedHashMap<>(pa);
        noIss.remove("iss");
        c.add(new Fixture("no-iss", tokens.forge(kidA, header("ES256", kidA), noIss), "issuer_not_allowed"));

        c.add(new Fixture("alg-none", Tokens.b64(header("none", kidA)) + "." + Tokens.b64(pa) + ".", "malformed"));
        c.add(new Fixture(
                "alg-none-with-signature",
                Tokens.b64(header("none", kidA)) + "." + Tokens.b64(pa) + ".AA",
                "invalid_signature"));
        String jwk = (String) sql.one("select public_jwk from signing_key where kid = ?", kidA);
        byte[] pubDer = JWK.parse(jwk).toECKey().toECPublicKey().getEncoded();
        c.add(new Fixture("hs256-keyed-with-public-key-der", hs256(kidA, pa, pubDer), "invalid_signature"));
        c.add(new Fixture(
                "hs256-keyed-with-public-jwk",
                hs256(kidA, pa, jwk.getBytes(StandardCharsets.UTF_8)),
                "invalid_signature"));
        c.add(new Fixture("alg-swap-es384", tokens.forge(kidA, header("ES384", kidA), pa), "invalid_signature"));
        c.add(new Fixture("alg-swap-rs256", tokens.forge(kidA, header("RS256", kidA), pa), "invalid_signature"));
        String kidRs = kids.get(byAlg.get("RS256"));
        c.add(new Fixture(
                "alg-swap-rs-to-ps",
                tokens.forge(kidRs, header("PS256", kidRs), tokens.payload(byAlg.get("RS256"), now)),
                "invalid_signature"));
        String good = tokens.forge(kidA, header("ES256", kidA), pa);
        String[] parts = good.split("\\.");
        Map<String, Object> changed = new LinkedHashMap<>(pa);
        changed.put("sub", "admin");
        c.add(new Fixture(
                "payload-changed-after-signing",
                parts[0] + "." + Tokens.b64(changed) + "." + parts[2],
                "invalid_signature"));

        Map<String, Object> badAud = new LinkedHashMap<>(pa);
        badAud.put("aud", List.of("api://" + a, "api://elsewhere"));
        c.add(new Fixture("bad-audience", tokens.forge(kidA, header("ES256", kidA), badAud), "audience_not_allowed"));
        Map<String, Object> noAud = new LinkedHashMap<>(pa);
        noAud.remove("aud");
        c.add(new Fixture("no-audience", tokens.forge(kidA, header("ES256", kidA), noAud), "audience_not_allowed"));
        Map<String, Object> otherAud = new LinkedHashMap<>(pa);
        otherAud.put("aud", "api://" + b);
        c.add(new Fixture(
                "another-issuers-audience",
                tokens.forge(kidA, header("ES256", kidA), otherAud),
                "audience_not_allowed"));

        Map<String, Object> expired = new LinkedHashMap<>(pa);
        expired.put("exp", now);
        c.add(new Fixture("expired", tokens.forge(kidA, header("ES256", kidA), expired), "expired"));
        Map<String, Object> noExp = new LinkedHashMap<>(pa);
        noExp.remove("exp");
        c.add(new Fixture("no-exp", tokens.forge(kidA, header("ES256", kidA), noExp), "expired"));
        Map<String, Object> nbf = new LinkedHashMap<>(pa);
        nbf.put("nbf", now + 60);
        c.add(new Fixture("nbf-in-the-future", tokens.forge(kidA, header("ES256", kidA), nbf), "expired"));
        Map<String, Object> floatExp = new LinkedHashMap<>(pa);
        floatExp.put("exp", (double) (now + 600));
        c.add(new Fixture("exp-not-an-integer", tokens.forge(kidA, header("ES256", kidA), floatExp), "expired"));

        Map<String, Object> crit = header("ES256", kidA);
        crit.put("crit", List.of("exp"));
        crit.put("exp", now + 600);
        c.add(new Fixture("crit-header", tokens.forge(kidA, crit, pa), "malformed"));

        // Embedded keys: an attacker's own key in jwk/jku/x5u must never be used.
        ECKey attacker = new ECKeyGenerator(Curve.P_256).generate();
        String attackerKid = attacker.computeThumbprint().toString();
        c.add(new Fixture(
                "embedded-jwk-own-kid",
                attackerSigned(
                        attacker,
                        new JWSHeader.Builder(JWSAlgorithm.ES256)
                                .keyID(attackerKid)
                                .jwk(attacker.toPublicJWK())
                                .build(),
                        pa),
                "kid_not_bound_to_issuer"));
        c.add(new Fixture(
                "embedded-jwk-real-kid",
                attackerSigned(
                        attacker,
                        new JWSHeader.Builder(JWSAlgorithm.ES256)
                                .keyID(kidA)
                                .jwk(attacker.toPublicJWK())
                                .build(),
                        pa),
                "invalid_signature"));
        c.add(new Fixture(
                "jku-header",
                attackerSigned(
                        attacker,
                        new JWSHeader.Builder(JWSAlgorithm.ES256)
                                .keyID(kidA)
                                .jwkURL(URI.create("https://evil.example/jwks.json"))
                                .build(),
                        pa),
                "invalid_signature"));
        c.add(new Fixture(
                "x5u-header",
                attackerSigned(
                        attacker,
                        new JWSHeader.Builder(JWSAlgorithm.ES256)
                                .keyID(kidA)
                                .x509CertURL(URI.create("https://evil.example/cert.pem"))
                                .build(),
                        pa),
                "invalid_signature"));
        Map<String, Object> jkuGenuine = header("ES256", kidA);
        jkuGenuine.put("jku", "https://evil.example/jwks.json");
        c.add(new Fixture("jku-header-genuine-signature", tokens.forge(kidA, jkuGenuine, pa), null));

        c.add(new Fixture("malformed-one-part", "abc", "malformed"));
        c.add(new Fixture("malformed-four-parts", "a.b.c.d", "malformed"));
        c.add(new Fixture("malformed-not-base64", "!!.??.##", "malformed"));
        c.add(new Fixture(
                "malformed-header-array", Tokens.B64.encodeToString("[1]".getBytes()) + ".e30.", "malformed"));
        c.add(new Fixture(
                "malformed-duplicate-alg",
                Tokens.B64.encodeToString("{\"alg\":\"ES256\",\"alg\":\"none\"}".getBytes()) + ".e30.",
                "malformed"));
        c.add(new Fixture(
                "malformed-duplicate-iss",
                parts[0] + "."
                        + Tokens.B64.encodeToString(
                                ("{\"iss\":\"" + pa.get("iss") + "\",\"iss\":\"https://nobody.example\"}").getBytes())
                        + "." + parts[2],
                "malformed"));
        c.add(new Fixture("malformed-signature", parts[0] + "." + parts[1] + ".%%%", "malformed"));
        return c;
    }

    private static String hs256(String kid, Map<String, Object> payload, byte[] secret) throws Exception {
        String input = Tokens.b64(header("HS256", kid)) + "." + Tokens.b64(payload);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret, "HmacSHA256"));
        return input + "." + Tokens.B64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
    }

    private static String attackerSigned(ECKey key, JWSHeader header, Map<String, Object> payload) throws Exception {
        SignedJWT jwt = new SignedJWT(header, JWTClaimsSet.parse(payload));
        jwt.sign(new ECDSASigner(key));
        return jwt.serialize();
    }

    private static void write(List<Fixture> corpus) throws Exception {
        var json = new com.fasterxml.jackson.databind.ObjectMapper()
                .writerWithDefaultPrettyPrinter()
                .writeValueAsString(corpus.stream()
                        .map(f -> {
                            Map<String, Object> m = new LinkedHashMap<>();
                            m.put("name", f.name());
                            m.put("token", f.token());
                            m.put("expected", f.expected() == null ? "valid" : f.expected());
                            return m;
                        })
                        .toList());
        java.nio.file.Files.writeString(java.nio.file.Path.of("target", "conformance-corpus.json"), json);
    }
}
