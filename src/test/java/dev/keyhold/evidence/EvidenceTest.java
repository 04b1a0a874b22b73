package dev.keyhold.evidence;

import static dev.keyhold.testsupport.Api.as;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import dev.keyhold.testsupport.Tokens;
import dev.keyhold.validator.EvidenceReporter;
import dev.keyhold.validator.KeyholdValidator;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Evidence over real PostgreSQL and SoftHSM2: every token the sign endpoint returns is in the ledger; an auditor
 * tells issued from forged; validators' reports of a forged token raise the alarm (and the kill switch where the
 * issuer says so); junk never does.
 */
@QuarkusTest
class EvidenceTest {

    @Inject
    Lifecycle lifecycle;

    @Inject
    MutableClock clock;

    @Inject
    Sql sql;

    @Inject
    Tokens tokens;

    @Inject
    LedgerMaintenance maintenance;

    @Inject
    LedgerStore store;

    @AfterEach
    void reset() {
        clock.reset();
    }

    /** Signs through the JAX-RS resource (an Accept with parameters is left to it by the fast route). */
    static String signViaResource(String issuerId, Map<String, Object> claims) {
        return as("signer")
                .header("Accept", "application/json;q=0.9")
                .body(Map.of("claims", claims))
                .post("/v1/issuers/" + issuerId + "/sign")
                .then()
                .statusCode(200)
                .extract()
                .path("token");
    }

    static String sha256(String token) throws Exception {
        return HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII)));
    }

    private String issuer(String prefix, boolean suspendOnCompromise) {
        Map<String, Object> body = Api.issuerBody(Api.uniqueId(prefix));
        body.put("suspendOnCompromise", suspendOnCompromise);
        return Api.createIssuer(body);
    }

    /** A token signed in the HSM with the issuer's real key, bypassing Keyhold's sign path: what a thief makes. */
    private String forged(String issuerId, String kid) {
        Map<String, Object> payload = tokens.payload(issuerId, clock.instant().getEpochSecond());
        payload.put("jti", "stolen-" + System.nanoTime());
        return tokens.forge(kid, Tokens.header("ES256", kid), payload);
    }

    /** One report per simulated second, so the per-principal limit (5/s) never refuses these tests' reports. */
    private JsonPath report(String principal, List<Map<String, Object>> rejected, List<Map<String, Object>> accepted) {
        clock.advance(Duration.ofSeconds(1));
        return as(principal)
                .body(Map.of("rejected", rejected, "accepted", accepted))
                .post("/v1/evidence/reports")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }

    private long alarms(String kid) {
        return sql.count(
                "select count(*) from audit_record where action = 'key.compromise-suspected' and kid = ?", kid);
    }

    @Test
    void everyTokenTheResourceReturnsIsInTheLedgerWithItsClaimsAndAJti() throws Exception {
        String id = Api.createIssuer("ledger");
        String kid = lifecycle.activeKey(id);
        String token = signViaResource(id, Tokens.claims(id));
        Map<String, Object> payload = Tokens.decode(token.split("\\.")[1]);
        assertThat(payload.get("jti")).as("Keyhold sets a jti").isInstanceOf(String.class);

        // durable before it was returned: read straight from the table, no waiting
        byte[] hash = HexFormat.of().parseHex(sha256(token));
        assertThat(sql.count(
                        "select count(*) from ledger_token where token_sha256 = ? and kid = ? and issuer_id = ?"
                                + " and jti = ? and sub = 'user-1' and iat = ? and exp = ?",
                        hash,
                        kid,
                        id,
                        payload.get("jti"),
                        ((Number) payload.get("iat")).longValue(),
                        ((Number) payload.get("exp")).longValue()))
                .isEqualTo(1);

        Map<String, Object> mine = Tokens.claims(id);
        mine.put("jti", "caller-chosen");
        String withJti = signViaResource(id, mine);
        JsonPath found = as("auditor")
                .body(Map.of("tokens", List.of(token, withJti)))
                .post("/v1/evidence/tokens")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(found.getList("results.issued")).containsExactly(true, true);
        assertThat(found.getString("results[1].jti")).isEqualTo("caller-chosen");
        assertThat(found.getString("results[0].kid")).isEqualTo(kid);
        assertThat(found.getString("results[0].issuer")).isEqualTo(id);
        // the fast route (if this branch still has it) records too
        String viaRoute = Tokens.sign(id, Tokens.claims(id));
        assertThat(sql.count(
                        "select count(*) from ledger_token where token_sha256 = ?",
                        HexFormat.of().parseHex(sha256(viaRoute))))
                .isEqualTo(1);
    }

    @Test
    void theAuditorsLookupTellsIssuedFromForgedAndRaisesNoAlarm() {
        String id = issuer("lookup", false);
        String kid = lifecycle.activeKey(id);
        String issued = signViaResource(id, Tokens.claims(id));
        String forged = forged(id, kid);
        String tampered = issued.substring(0, issued.lastIndexOf('.') + 1) + "AAAA";
        JsonPath r = as("auditor")
                .body(Map.of("tokens", List.of(issued, forged, tampered, "junk")))
                .post("/v1/evidence/tokens")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(r.getList("results.issued")).containsExactly(true, false, false, false);
        assertThat(r.getList("results.judgement")).containsExactly("issued", "forged", "not_keyhold", "not_keyhold");
        assertThat(r.getBoolean("results[1].forged_with_keyhold_key")).isTrue();
        assertThat(r.getString("results[1].kid")).isEqualTo(kid);
        assertThat(r.getBoolean("results[2].forged_with_keyhold_key")).isFalse();
        assertThat(alarms(kid)).as("a lookup is a read").isZero();

        as("validator")
                .body(Map.of("tokens", List.of(issued)))
                .post("/v1/evidence/tokens")
                .then()
                .statusCode(403);
        as("auditor")
                .body(Map.of("tokens", List.of()))
                .post("/v1/evidence/tokens")
                .then()
                .statusCode(422);
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 1001; i++) {
            many.add("x" + i);
        }
        as("auditor")
                .body(Map.of("tokens", many))
                .post("/v1/evidence/tokens")
                .then()
                .statusCode(422);
    }

    @Test
    void aReportedTokenWithAValidSignatureAndALedgerHitRaisesNoAlarm() throws Exception {
        String id = issuer("hit", true);
        String kid = lifecycle.activeKey(id);
        String issued = signViaResource(id, Tokens.claims(id));
        String[] parts = issued.split("\\.");
        JsonPath r = report(
                "validator",
                List.of(Map.of("sha256", sha256(issued), "header", Tokens.decode(parts[0]), "reason", "expired")),
                List.of(Map.of("token", issued)));
        assertThat(r.getInt("alarms")).isZero();
        assertThat(r.getList("findings.judgement")).containsExactly("issued", "issued");
        assertThat(alarms(kid)).isZero();
        as("admin")
                .get("/v1/issuers/" + id)
                .then()
                .statusCode(200)
                .body("status", org.hamcrest.Matchers.equalTo("ACTIVE"));
    }

    @TestHTTPResource("/")
    URL base;

    @Test
    void theLibrarysReporterSendsWhatItSawAndAnAcceptedForgeryRaisesTheAlarm() {
        String id = issuer("kit-report", false);
        String kid = lifecycle.activeKey(id);
        String forged = forged(id, kid);
        String issued = signViaResource(id, Tokens.claims(id));
        clock.advance(Duration.ofSeconds(1)); // the per-principal report rate
        URI keyhold = URI.create(base.toString());
        String credentials =
                Base64.getEncoder().encodeToString(("validator:" + Api.PASSWORD).getBytes(StandardCharsets.UTF_8));
        EvidenceReporter reporter = EvidenceReporter.builder(keyhold, () -> "Basic " + credentials)
                .acceptedSampleRate(1.0)
                .flushInterval(Duration.ZERO)
                .clock(clock)
                .build();
        try (reporter;
                KeyholdValidator v = KeyholdValidator.builder(keyhold)
                        .trust(id, Set.of("api://" + id))
                        .clock(clock)
                        .reporter(reporter)
                        .build()) {
            // a token made with the stolen key verifies: only the ledger tells it from an issued one
            assertThat(v.validate(forged).valid()).isTrue();
            assertThat(v.validate(issued).valid()).isTrue();
            assertThat(v.validate(issued.substring(0, issued.length() - 4) + "AAAA")
                            .valid())
                    .isFalse();
            assertThat(alarms(kid)).isZero();
            assertThat(reporter.flush()).isEqualTo(3);
        }
        assertThat(reporter.stats().alarms()).isEqualTo(1);
        assertThat(reporter.stats().dropped()).isZero();
        assertThat(alarms(kid)).isEqualTo(1);
        as("admin")
                .get("/v1/issuers/" + id)
                .then()
                .statusCode(200)
                .body("status", org.hamcrest.Matchers.equalTo("ACTIVE"));
    }

    @Test
    void aForgedTokenRaisesTheAlarmOnceAndSuspendsAnIssuerThatAsksForIt() {
        String id = issuer("forged", true);
        String kid = lifecycle.activeKey(id);
        long eventsBefore = sql.count(
                "select count(*) from outbox_event where type = 'keyhold.key.compromise-suspected'"
                        + " and subject = ?",
                kid);
        String forged = forged(id, kid);

        JsonPath r = report("validator", List.of(), List.of(Map.of("token", forged)));
        assertThat(r.getInt("alarms")).isEqualTo(1);
        assertThat(r.getList("suspendedIssuers")).containsExactly(id);
        assertThat(r.getString("findings[0].judgement")).isEqualTo("forged");

        assertThat(alarms(kid)).isEqualTo(1);
        assertThat(sql.count(
                        "select count(*) from outbox_event where type = 'keyhold.key.compromise-suspected'"
                                + " and subject = ? and issuer_id = ?",
                        kid,
                        id))
                .isEqualTo(eventsBefore + 1);
        assertThat(sql.count(
                        "select count(*) from outbox_event where type = 'keyhold.issuer.suspended'"
                                + " and issuer_id = ?",
                        id))
                .isEqualTo(1);
        as("admin")
                .get("/v1/issuers/" + id)
                .then()
                .statusCode(200)
                .body("status", org.hamcrest.Matchers.equalTo("SUSPENDED"));
        as("signer")
                .body(Map.of("claims", Tokens.claims(id)))
                .post("/v1/issuers/" + id + "/sign")
                .then()
                .statusCode(409);

        String metrics = given().get("/q/metrics").asString();
        assertThat(metrics).contains("keyhold_evidence_compromise_suspected_total{issuer=\"" + id + "\"} 1.0");
        String health = given().get("/q/health/group/evidence").asString();
        assertThat(health).contains("suspect." + kid);

        // the same token again: counted, not a second alarm
        JsonPath again = report("validator", List.of(Map.of("token", forged)), List.of());
        assertThat(again.getInt("alarms")).isZero();
        assertThat(alarms(kid)).isEqualTo(1);
        assertThat(sql.count("select reports from compromise_report where kid = ?", kid))
                .isEqualTo(2);

        // resume is M-of-N as always
        as("alice")
                .body("{}")
                .post("/v1/issuers/" + id + "/resume")
                .then()
                .statusCode(201)
                .body("kind", org.hamcrest.Matchers.equalTo("ISSUER_RESUME"));
    }

    @Test
    void aForgedTokenForAnIssuerWithoutSuspendOnCompromiseAlarmsButLeavesItRunning() {
        String id = issuer("forged-nosusp", false);
        String kid = lifecycle.activeKey(id);
        JsonPath r = report("validator", List.of(Map.of("token", forged(id, kid))), List.of());
        assertThat(r.getInt("alarms")).isEqualTo(1);
        assertThat(r.getList("suspendedIssuers")).isEmpty();
        assertThat(alarms(kid)).isEqualTo(1);
        as("admin")
                .get("/v1/issuers/" + id)
                .then()
                .statusCode(200)
                .body("status", org.hamcrest.Matchers.equalTo("ACTIVE"));
        signViaResource(id, Tokens.claims(id));
    }

    @Test
    void aFloodOfJunkIsRateLimitedNeverAnAlarmNeverA5xx() throws Exception {
        String id = issuer("junk", true);
        String kid = lifecycle.activeKey(id);
        String issued = signViaResource(id, Tokens.claims(id));
        String badSignature =
                issued.substring(0, issued.lastIndexOf('.') + 1) + Tokens.B64.encodeToString(new byte[64]);
        String unknownKid = Tokens.b64(Tokens.header("ES256", "no-such-kid")) + "."
                + Tokens.b64(tokens.payload(id, clock.instant().getEpochSecond())) + "."
                + Tokens.B64.encodeToString(new byte[64]);
        List<Map<String, Object>> junk = new ArrayList<>();
        junk.add(Map.of("token", "not.a.token"));
        junk.add(Map.of("token", "x".repeat(20_000)));
        junk.add(Map.of("token", badSignature));
        junk.add(Map.of("token", unknownKid));
        junk.add(Map.of("token", "%%%.###.$$$"));
        junk.add(Map.of("sha256", "not-a-hash"));
        junk.add(Map.of("sha256", "ab".repeat(32)));
        junk.add(Map.of("reason", "neither token nor hash"));
        junk.add(Map.of("token", issued, "sha256", sha256(issued)));
        long alarmsBefore = sql.count("select count(*) from audit_record where action = 'key.compromise-suspected'");

        clock.freezeAt(clock.instant().plusSeconds(10));
        int ok = 0;
        int limited = 0;
        for (int i = 0; i < 40; i++) {
            Response res = as("flooder")
                    .body(Map.of("rejected", junk, "accepted", junk))
                    .post("/v1/evidence/reports");
            assertThat(res.statusCode()).as(res.asString()).isIn(200, 429);
            if (res.statusCode() == 200) {
                ok++;
                assertThat(res.jsonPath().getInt("alarms")).isZero();
                assertThat(res.jsonPath().getList("findings.judgement", String.class))
                        .doesNotContain("forged")
                        .contains("not_keyhold", "malformed", "unknown");
            } else {
                limited++;
                assertThat(res.header("Retry-After")).isNotNull();
            }
        }
        assertThat(ok).as("the burst is one second's worth").isEqualTo(5);
        assertThat(limited).isEqualTo(35);
        // bodies that do not parse or are too large are refused as input errors
        clock.advance(Duration.ofSeconds(10));
        as("flooder")
                .body("{\"rejected\": [")
                .post("/v1/evidence/reports")
                .then()
                .statusCode(400);
        clock.advance(Duration.ofSeconds(1));
        as("flooder")
                .body("{\"rejected\": [], \"accepted\": []}")
                .post("/v1/evidence/reports")
                .then()
                .statusCode(422);
        clock.advance(Duration.ofSeconds(1));
        as("flooder")
                .body("{\"rejected\": 7}")
                .post("/v1/evidence/reports")
                .then()
                .statusCode(400);
        clock.advance(Duration.ofSeconds(1));
        as("signer")
                .body("{\"accepted\": []}")
                .post("/v1/evidence/reports")
                .then()
                .statusCode(403);
        assertThat(sql.count("select count(*) from audit_record where action = 'key.compromise-suspected'"))
                .isEqualTo(alarmsBefore);
        assertThat(alarms(kid)).isZero();
    }

    @Test
    void retentionDropsWholeOldDaysAndTheirTokensAreThenNotJudgedForged() throws Exception {
        String id = issuer("retention", false);
        String kid = lifecycle.activeKey(id);
        String old = signViaResource(id, Tokens.claims(id));
        LocalDate day = LocalDate.ofInstant(clock.instant(), java.time.ZoneOffset.UTC);
        String partition = "ledger_token_p" + day.toString().replace("-", "");
        assertThat(sql.one("select to_regclass(?)::text", partition)).isEqualTo(partition);

        clock.advance(Duration.ofDays(89));
        assertThat(maintenance.prune("test")).doesNotContain(day);
        assertThat(sql.one("select to_regclass(?)::text", partition)).isEqualTo(partition);

        clock.advance(Duration.ofDays(2));
        assertThat(maintenance.prune("test")).contains(day);
        assertThat(sql.one("select to_regclass(?)::text", partition)).isNull();
        assertThat(sql.count(
                        "select count(*) from audit_record where action = 'ledger.pruned' and details like ?",
                        "%" + day + "%"))
                .isEqualTo(1);

        // The token is gone from the ledger; it still verifies under the key, but it was issued before the ledger's
        // coverage: it cannot be judged, and it is never an alarm.
        JsonPath r = report("validator", List.of(), List.of(Map.of("token", old)));
        assertThat(r.getString("findings[0].judgement")).isEqualTo("not_covered");
        assertThat(r.getInt("alarms")).isZero();
        assertThat(alarms(kid)).isZero();
    }

    /** What the operations metrics read: the newest ledger checkpoint's time, the oldest batch no checkpoint signs. */
    @Test
    void theCheckpointLagIsTheNewestCheckpointAndTheOldestBatchAfterIt() {
        String id = issuer("lag", false);
        lifecycle.activeKey(id);
        signViaResource(id, Tokens.claims(id));
        assertThat(maintenance.checkpoint("test")).isPresent();
        LedgerStore.CheckpointLag signed = QuarkusTransaction.requiringNew().call(store::checkpointLag);
        assertThat(signed.newestCheckpointAt())
                .isEqualTo(((Timestamp) sql.one("select max(signed_at) from ledger_checkpoint")).toInstant());
        assertThat(signed.oldestUncheckpointedBatchAt()).isNull();

        clock.advance(Duration.ofSeconds(5));
        signViaResource(id, Tokens.claims(id));
        LedgerStore.CheckpointLag behind = QuarkusTransaction.requiringNew().call(store::checkpointLag);
        assertThat(behind.newestCheckpointAt()).isEqualTo(signed.newestCheckpointAt());
        assertThat(behind.oldestUncheckpointedBatchAt())
                .isNotNull()
                .isEqualTo(((Timestamp) sql.one("select min(recorded_at) from ledger_batch"
                                + " where seq > (select max(seq) from ledger_checkpoint)"))
                        .toInstant());
    }
}
