package dev.keyhold.activation;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Tokens.claims;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.keyhold.custodian.ssh.SshSig;
import dev.keyhold.policy.IntegrityAlarm;
import dev.keyhold.signing.SigningCache;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.CustodianKeys;
import dev.keyhold.testsupport.ForgedRows;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Sql;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Dual control against a database writer (SPEC "Custodian signatures", invariant 4): each test writes the database
 * as an attacker with full write access but no custodian key, HSM PIN or code in Keyhold would, then asks for a
 * token. Nothing signs (409 approval-evidence-invalid), the alarm is raised (audit record, outbox event, metric,
 * health data), and once the rows are put back signing works again.
 */
@QuarkusTest
class CustodianSignatureAttackTest {

    static final String PROBLEM = "urn:keyhold:problem:approval-evidence-invalid";

    @Inject
    Lifecycle lifecycle;

    @Inject
    Sql sql;

    @Inject
    MutableClock clock;

    @Inject
    SigningCache cache;

    @Inject
    MeterRegistry registry;

    @Inject
    IntegrityAlarm alarm;

    @Inject
    ActivationService activations;

    @Inject
    ForgedRows forged;

    @AfterEach
    void reset() {
        clock.reset();
    }

    // ------------------------------------------------------------------------------------------ keys and approvals

    @Test
    void aPendingKeySetActiveByUpdateDoesNotSign() {
        String id = Api.createIssuer("atk-pending");
        String first = lifecycle.activeKey(id);
        signs(id, first);
        String pending = Api.rotate(id);
        forged.swapActive(first, pending);
        refusedWithAlarm(id);
        forged.restoreActive(first, pending);
        signs(id, first);
    }

    @Test
    void aRequestSetApprovedByUpdateIsNotCarriedOut() {
        String id = Api.createIssuer("atk-approved");
        String first = lifecycle.activeKey(id);
        String pending = Api.rotate(id);
        String request = requestOf(pending);
        Api.approve("alice", request).then().statusCode(200).body("state", equalTo("OPEN"));
        sql.exec("update activation_request set state = 'APPROVED' where id = ?::uuid", request);
        clock.advance(Duration.ofHours(2).plusSeconds(1));
        assertThat(activations.activateIfDue(java.util.UUID.fromString(request), "keyhold"))
                .isEmpty();
        assertThat(sql.one("select state from signing_key where kid = ?", pending))
                .isEqualTo("PENDING");
        assertThat(sql.one("select state from activation_request where id = ?::uuid", request))
                .isEqualTo("CANCELLED");
        signs(id, first);
    }

    @Test
    void approvalsCopiedFromAnotherRequestDoNotCount() {
        String id = Api.createIssuer("atk-copy");
        String first = lifecycle.activeKey(id);
        String pending = Api.rotate(id);
        String from = requestOf(first);
        String to = requestOf(pending);
        copyDecisions(from, to);
        // at decision time the copied rows do not count either: carol's is the only valid approval
        Api.approve("carol", to).then().statusCode(200).body("state", equalTo("OPEN"));
        sql.exec("update activation_request set state = 'APPROVED' where id = ?::uuid", to);
        forged.swapActive(first, pending);
        refusedWithAlarm(id);
        forged.restoreActive(first, pending);
        signs(id, first);
    }

    @Test
    void approvalsCopiedFromAnotherIssuerDoNotCount() {
        String other = Api.createIssuer("atk-other-src");
        String otherKey = lifecycle.activeKey(other);
        String id = Api.createIssuer("atk-other");
        String first = lifecycle.activeKey(id);
        String pending = Api.rotate(id);
        copyDecisions(requestOf(otherKey), requestOf(pending));
        sql.exec("update activation_request set state = 'EXECUTED' where id = ?::uuid", requestOf(pending));
        forged.swapActive(first, pending);
        refusedWithAlarm(id);
        forged.restoreActive(first, pending);
        signs(id, first);
        signs(other, otherKey);
    }

    @Test
    void anApprovalOfAnExpiredStatementDoesNotCountForTheNextRequest() {
        String id = Api.createIssuer("atk-expired");
        String first = lifecycle.activeKey(id);
        String pending = Api.rotate(id);
        String expired = requestOf(pending);
        Api.approve("alice", expired).then().statusCode(200).body("state", equalTo("OPEN"));
        Instant expiresAt = ((java.sql.Timestamp)
                        sql.one("select expires_at from activation_request where id = ?::uuid", expired))
                .toInstant();
        clock.freezeAt(expiresAt.plusSeconds(1));
        // a late approval is refused; the request is closed as EXPIRED
        Api.approve("bob", expired).then().statusCode(409);
        assertThat(sql.one("select state from activation_request where id = ?::uuid", expired))
                .isEqualTo("EXPIRED");
        Api.rotate(id);
        String next =
                (String) sql.one("select id::text from activation_request where kid = ? and state = 'OPEN'", pending);
        Api.approve("bob", next).then().statusCode(200).body("state", equalTo("OPEN"));
        // alice's approval of the expired statement, copied into the new request, makes it look approved
        copyDecisions(expired, next);
        sql.exec("update activation_request set state = 'APPROVED' where id = ?::uuid", next);
        forged.swapActive(first, pending);
        refusedWithAlarm(id);
        forged.restoreActive(first, pending);
        signs(id, first);
    }

    @Test
    void oneCustodiansTwoCredentialsCountOnce() throws Exception {
        KeyPair second = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        enroll("alice", second);
        String id = Api.createIssuer("atk-twice");
        assertThat(sql.one("select document from issuer_policy where issuer_id = ? and version = 1", id)
                        .toString())
                .contains(SshSig.publicKeyLine(second.getPublic(), null).trim());
        String first = lifecycle.activeKey(id);
        String pending = Api.rotate(id);
        String request = requestOf(pending);
        Api.approve("alice", request).then().statusCode(200).body("state", equalTo("OPEN"));
        // alice cannot approve again with her second key ...
        String statement =
                as("alice").get("/v1/activations/" + request + "/statement").asString();
        String sig2 = SshSig.sign(second, "keyhold-approval", statement.getBytes(StandardCharsets.UTF_8));
        as("alice")
                .body(Map.of("decision", "approve", "signature", Map.of("format", "sshsig", "value", sig2)))
                .post("/v1/activations/" + request + "/decisions")
                .then()
                .statusCode(409);
        // ... and her second signature written as bob's approval does not count as bob's
        String aliceSecond = (String) sql.one(
                "select id from custodian_credential where principal = 'alice'" + " and public_key = ?",
                SshSig.publicKeyLine(second.getPublic(), null).trim());
        sql.exec(
                "insert into activation_decision (request_id, custodian, decision, decided_at, signature, credential_id)"
                        + " values (?::uuid, 'bob', 'APPROVE', now(), ?, ?)",
                request,
                dev.keyhold.trust.Jcs.canonicalize(
                        Map.of("format", "sshsig", "value", sig2, "credentialId", aliceSecond)),
                aliceSecond);
        sql.exec("update activation_request set state = 'APPROVED' where id = ?::uuid", request);
        forged.swapActive(first, pending);
        refusedWithAlarm(id);
        forged.restoreActive(first, pending);
        signs(id, first);
    }

    @Test
    void aDeletedDecisionIsARollbackThatStopsSigning() {
        String id = Api.createIssuer("atk-del-decision");
        String kid = lifecycle.activeKey(id);
        String request = requestOf(kid);
        List<Object[]> saved = decisions(request);
        sql.exec(
                "delete from activation_decision where request_id = ?::uuid and custodian = ?",
                request,
                saved.get(0)[0]);
        refusedWithAlarm(id);
        Object[] d = saved.get(0);
        sql.exec(
                "insert into activation_decision (request_id, custodian, decision, comment, decided_at, signature,"
                        + " credential_id) values (?::uuid, ?, ?, ?, ?, ?, ?)",
                request,
                d[0],
                d[1],
                d[2],
                d[3],
                d[4],
                d[5]);
        signs(id, kid);
    }

    // ------------------------------------------------------------------------------------------ the issuer's policy

    @Test
    void aLoweredThresholdStopsSigning() {
        String id = Api.createIssuer("atk-m");
        String kid = lifecycle.activeKey(id);
        sql.exec("update issuer set approvals_required = 1 where id = ?", id);
        refusedWithAlarm(id);
        sql.exec("update issuer set approvals_required = 2 where id = ?", id);
        signs(id, kid);
    }

    @Test
    void anAddedSignerStopsSigning() {
        String id = Api.createIssuer("atk-signer");
        String kid = lifecycle.activeKey(id);
        sql.exec("update issuer set signers = '[\"signer\", \"signer2\"]' where id = ?", id);
        cache.invalidate(id);
        Api.sign("signer2", id, Map.of("claims", claims(id)))
                .then()
                .statusCode(409)
                .body("type", equalTo(PROBLEM));
        refusedWithAlarm(id);
        sql.exec("update issuer set signers = '[\"signer\"]' where id = ?", id);
        signs(id, kid);
    }

    @Test
    void anAddedCustodianStopsSigningAndCannotApprove() {
        String id = Api.createIssuer("atk-custodian");
        String kid = lifecycle.activeKey(id);
        String pending = Api.rotate(id);
        sql.exec("update issuer set custodians = '[\"alice\", \"bob\", \"carol\", \"mallory\"]' where id = ?", id);
        refusedWithAlarm(id);
        // mallory, named by the row only, signs with her own enrolled key: not a custodian of any policy version
        Api.approve("mallory", requestOf(pending)).then().statusCode(422);
        assertThat(sql.count("select count(*) from activation_decision where request_id = ?::uuid", requestOf(pending)))
                .isZero();
        sql.exec("update issuer set custodians = '[\"alice\", \"bob\", \"carol\"]' where id = ?", id);
        signs(id, kid);
    }

    @Test
    void anInsertedCredentialIsNotACredential() throws Exception {
        String id = Api.createIssuer("atk-credential");
        String kid = lifecycle.activeKey(id);
        String pending = Api.rotate(id);
        KeyPair attacker = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        String line = SshSig.publicKeyLine(attacker.getPublic(), null).trim();
        String copiedSeal = (String) sql.one("select seal from custodian_credential where principal = 'carol' limit 1");
        sql.exec(
                "insert into custodian_credential (id, principal, format, public_key, algorithm, enrolled_at, seal)"
                        + " values (?, 'carol', 'sshsig', ?, 'ssh-ed25519', now(), ?)",
                "SHA256:attacker-" + id,
                line,
                copiedSeal);
        refusedWithAlarm(id);
        // the attacker's signature as carol's approval is refused
        String request = requestOf(pending);
        String statement =
                as("carol").get("/v1/activations/" + request + "/statement").asString();
        as("carol")
                .body(Map.of(
                        "decision",
                        "approve",
                        "signature",
                        Map.of(
                                "format",
                                "sshsig",
                                "value",
                                SshSig.sign(attacker, "keyhold-approval", statement.getBytes(StandardCharsets.UTF_8)))))
                .post("/v1/activations/" + request + "/decisions")
                .then()
                .statusCode(422);
        as("carol").get("/v1/custodians/me/credentials").then().statusCode(200);
        sql.exec("delete from custodian_credential where id = ?", "SHA256:attacker-" + id);
        signs(id, kid);
    }

    @Test
    void aSuspendedIssuerSetActiveByUpdateDoesNotSign() {
        String id = Api.createIssuer("atk-suspended");
        String kid = lifecycle.activeKey(id);
        as("alice")
                .body(Map.of("reason", "incident"))
                .post("/v1/issuers/" + id + "/suspend")
                .then()
                .statusCode(200);
        sign(id).then().statusCode(409).body("type", equalTo("urn:keyhold:problem:issuer-suspended"));
        sql.exec("update issuer set status = 'ACTIVE' where id = ?", id);
        refusedWithAlarm(id);
        sql.exec("update issuer set status = 'SUSPENDED' where id = ?", id);
        cache.invalidate(id);
        sign(id).then().statusCode(409).body("type", equalTo("urn:keyhold:problem:issuer-suspended"));
        // the legitimate way back: a resume signed by two custodians
        String resume = as("alice")
                .body("{}")
                .post("/v1/issuers/" + id + "/resume")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
        Api.approve("bob", resume).then().statusCode(200);
        Api.approve("carol", resume).then().statusCode(200).body("state", equalTo("EXECUTED"));
        signs(id, kid);
    }

    @Test
    void theNewestPolicyVersionDeletedIsARollbackTheHsmMirrorCatches() {
        String id = Api.createIssuer("atk-rollback");
        String kid = lifecycle.activeKey(id);
        String change = as("admin")
                .body(Map.of("approvalsRequired", 3, "reason", "stricter"))
                .post("/v1/issuers/" + id + "/policy-changes")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
        Api.approve("alice", change).then().statusCode(200);
        Api.approve("bob", change).then().statusCode(200).body("state", equalTo("EXECUTED"));
        signs(id, kid);
        as("auditor")
                .get("/v1/issuers/" + id + "/policy")
                .then()
                .statusCode(200)
                .body("version", equalTo(2));
        Object[] v2 = row(
                "select document, digest, evidence, created_at from issuer_policy where issuer_id = ?"
                        + " and version = 2",
                id);
        // the database as it was before the change: version 2 gone, the issuer row back at M = 2
        sql.exec("delete from issuer_policy where issuer_id = ? and version = 2", id);
        sql.exec("update issuer set approvals_required = 2 where id = ?", id);
        refusedWithAlarm(id);
        assertThat(alarm.findings().get(id)).startsWith("policy-rollback");
        sql.exec(
                "insert into issuer_policy (issuer_id, version, document, digest, evidence, created_at) values"
                        + " (?, 2, ?, ?, ?, ?)",
                id,
                v2[0],
                v2[1],
                v2[2],
                v2[3]);
        sql.exec("update issuer set approvals_required = 3 where id = ?", id);
        signs(id, kid);
    }

    // ------------------------------------------------------------------------------------------ the legitimate path

    @Test
    void custodiansEnrollSignTheStatementAndTheKeySigns() throws Exception {
        KeyPair erinKey = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Map<String, Object> body = Api.issuerBody(Api.uniqueId("legit"));
        body.put("custodians", new java.util.ArrayList<>(List.of("dave", "erin", "carol")));
        // erin enrolls a key of her own over HTTP before the issuer names her
        enroll("erin", erinKey);
        as("erin")
                .get("/v1/custodians/me/credentials")
                .then()
                .statusCode(200)
                .body(
                        "find { it.publicKey == '"
                                + SshSig.publicKeyLine(erinKey.getPublic(), null)
                                        .trim() + "' }.sealed",
                        equalTo(true));
        String id = Api.createIssuer(body);
        as("admin")
                .get("/v1/issuers/" + id + "/policy")
                .then()
                .statusCode(200)
                .body("version", equalTo(1))
                .body("evidence.sealedBy", equalTo("hsm"))
                .body("evidence.reason", equalTo("created"));
        String kid = Api.rotate(id);
        String request = requestOf(kid);
        Response st = as("dave").get("/v1/activations/" + request + "/statement");
        st.then()
                .statusCode(200)
                .contentType("application/json")
                .body("type", equalTo("keyhold.approval.v1"))
                .body("issuer", equalTo(id))
                .body("request", equalTo(request))
                .body("kind", equalTo("KEY_ACTIVATION"))
                .body("requester", equalTo("scheduler"))
                .body("subject.kid", equalTo(kid))
                .body("subject.jwkThumbprint", equalTo(kid))
                .body("policyVersion", equalTo(1))
                .body("approvalsRequired", equalTo(2));
        byte[] statement = st.asByteArray();
        // no signature, a signature over other bytes, a key not in the policy: 422, nothing recorded
        as("dave")
                .body(Map.of("decision", "approve"))
                .post("/v1/activations/" + request + "/decisions")
                .then()
                .statusCode(422);
        as("dave")
                .body(Map.of(
                        "decision",
                        "approve",
                        "signature",
                        Map.of(
                                "format",
                                "sshsig",
                                "value",
                                CustodianKeys.sign("dave", "keyhold-approval", "{}".getBytes(StandardCharsets.UTF_8)))))
                .post("/v1/activations/" + request + "/decisions")
                .then()
                .statusCode(422);
        as("dave")
                .body(Map.of(
                        "decision",
                        "approve",
                        "signature",
                        Map.of("format", "sshsig", "value", CustodianKeys.sign("dave", "keyhold-enroll", statement))))
                .post("/v1/activations/" + request + "/decisions")
                .then()
                .statusCode(422);
        assertThat(sql.count("select count(*) from activation_decision where request_id = ?::uuid", request))
                .isZero();
        as("dave")
                .body(Map.of(
                        "decision",
                        "approve",
                        "signature",
                        Map.of("format", "sshsig", "value", CustodianKeys.sign("dave", "keyhold-approval", statement))))
                .post("/v1/activations/" + request + "/decisions")
                .then()
                .statusCode(200)
                .body("state", equalTo("OPEN"));
        clock.advance(Duration.ofHours(2).plusSeconds(1));
        as("erin")
                .body(Map.of(
                        "decision",
                        "approve",
                        "signature",
                        Map.of("format", "sshsig", "value", SshSig.sign(erinKey, "keyhold-approval", statement))))
                .post("/v1/activations/" + request + "/decisions")
                .then()
                .statusCode(200)
                .body("state", equalTo("EXECUTED"));
        signs(id, kid);
    }

    @Test
    void aCustodianWithoutCredentialsIsAddedByTheCredentialBootstrapOnce() throws Exception {
        // frank (a custodian principal the test setup does not enroll) is named before he has any credential
        Map<String, Object> body = Api.issuerBody(Api.uniqueId("bootstrap"));
        body.put("custodians", new java.util.ArrayList<>(List.of("dave", "frank")));
        String id = Api.createIssuer(body);
        as("admin").get("/v1/issuers/" + id + "/policy").then().body("version", equalTo(1));
        String kid = Api.rotate(id);
        String request = requestOf(kid);
        // nobody could reach M = 2: frank has nothing to sign with
        Api.approve("frank", request).then().statusCode(422);
        KeyPair frank = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        enroll("frank", frank);
        as("admin")
                .get("/v1/issuers/" + id + "/policy")
                .then()
                .body("version", equalTo(2))
                .body("evidence.sealedBy", equalTo("hsm"))
                .body("evidence.reason", equalTo("credential-bootstrap"));
        // once M custodians have credentials, a further credential needs a policy change
        enroll("frank", KeyPairGenerator.getInstance("Ed25519").generateKeyPair());
        as("admin").get("/v1/issuers/" + id + "/policy").then().body("version", equalTo(2));
        String statement =
                as("frank").get("/v1/activations/" + request + "/statement").asString();
        as("frank")
                .body(Map.of(
                        "decision",
                        "approve",
                        "signature",
                        Map.of(
                                "format",
                                "sshsig",
                                "value",
                                SshSig.sign(frank, "keyhold-approval", statement.getBytes(StandardCharsets.UTF_8)))))
                .post("/v1/activations/" + request + "/decisions")
                .then()
                .statusCode(200)
                .body("state", equalTo("OPEN"));
        clock.advance(Duration.ofHours(2).plusSeconds(1));
        Api.approve("dave", request).then().statusCode(200).body("state", equalTo("EXECUTED"));
        signs(id, kid);
    }

    // ------------------------------------------------------------------------------------------ helpers

    private void enroll(String principal, KeyPair pair) {
        String challenge = as(principal)
                .body("{}")
                .post("/v1/custodians/me/credentials/challenges")
                .then()
                .statusCode(201)
                .extract()
                .path("challenge");
        as(principal)
                .body(Map.of(
                        "format",
                        "sshsig",
                        "publicKey",
                        SshSig.publicKeyLine(pair.getPublic(), principal),
                        "signature",
                        SshSig.sign(pair, "keyhold-enroll", challenge.getBytes(StandardCharsets.UTF_8)),
                        "challenge",
                        challenge))
                .post("/v1/custodians/me/credentials")
                .then()
                .statusCode(201)
                .body("sealed", equalTo(true));
    }

    private Response sign(String id) {
        return Api.sign("signer", id, Map.of("claims", claims(id)));
    }

    private void signs(String id, String kid) {
        cache.invalidate(id);
        sign(id).then().statusCode(200).body("kid", equalTo(kid));
    }

    /** The next snapshot (the attacker's write moved no outbox event: a restart or any later change) refuses. */
    private void refusedWithAlarm(String id) {
        cache.invalidate(id);
        sign(id).then().statusCode(409).body("type", equalTo(PROBLEM));
        assertThat(sql.count(
                        "select count(*) from audit_record where action = 'integrity.violation' and issuer_id = ?", id))
                .isPositive();
        assertThat(sql.count(
                        "select count(*) from outbox_event where type = 'keyhold.integrity.violation'"
                                + " and issuer_id = ?",
                        id))
                .isPositive();
        Counter c =
                registry.find("keyhold.integrity.violations").tag("issuer", id).counter();
        assertThat(c).isNotNull();
        assertThat(c.count()).isPositive();
        assertThat(alarm.findings()).containsKey(id);
        Api.as("admin")
                .get("/q/health/group/lifecycle")
                .then()
                .body(
                        "checks.find { it.name == 'lifecycle' }.data.'integrity." + id + "'",
                        org.hamcrest.Matchers.notNullValue());
    }

    private String requestOf(String kid) {
        return (String)
                sql.one("select id::text from activation_request where kid = ? order by created_at desc limit 1", kid);
    }

    private void copyDecisions(String from, String to) {
        sql.exec(
                "insert into activation_decision (request_id, custodian, decision, comment, decided_at, signature,"
                        + " credential_id) select ?::uuid, custodian, decision, comment, decided_at, signature, credential_id"
                        + " from activation_decision where request_id = ?::uuid on conflict do nothing",
                to,
                from);
    }

    private List<Object[]> decisions(String request) {
        List<Object[]> out = new java.util.ArrayList<>();
        for (String c : List.of("alice", "bob", "carol")) {
            Object[] r = row(
                    "select custodian, decision, comment, decided_at, signature, credential_id from"
                            + " activation_decision where request_id = ?::uuid and custodian = ?",
                    request,
                    c);
            if (r != null) {
                out.add(r);
            }
        }
        return out;
    }

    private Object[] row(String query, Object... args) {
        Object first = sql.one(query.replaceFirst("select ([^,]+),.*? from", "select $1 from"), args);
        if (first == null) {
            return null;
        }
        String cols = query.substring("select ".length(), query.indexOf(" from"));
        String[] names = cols.split(",\\s*");
        Object[] out = new Object[names.length];
        String rest = query.substring(query.indexOf(" from"));
        for (int i = 0; i < names.length; i++) {
            out[i] = sql.one("select " + names[i] + rest, args);
        }
        return out;
    }
}
