package dev.keyhold.validator;

import static dev.keyhold.validator.TestClock.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class KeyholdValidatorTest {

    FakeKeyhold keyhold;
    TestClock clock = new TestClock();
    KeyholdValidator v;
    ECKey a1;
    ECKey b1;

    @BeforeEach
    void start() throws Exception {
        keyhold = new FakeKeyhold();
        a1 = keyhold.addKey("a", "ACTIVE");
        b1 = keyhold.addKey("b", "ACTIVE");
        keyhold.event("keyhold.issuer.created", "a", null);
    }

    @AfterEach
    void stop() {
        if (v != null) {
            v.close();
        }
        keyhold.close();
    }

    private KeyholdValidator validator() {
        v = KeyholdValidator.builder(keyhold.uri())
                .trust("a", Set.of("api://a"))
                .trust("b", Set.of("api://b"))
                .clock(clock)
                .maxStaleness(Duration.ofSeconds(60))
                .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(100))
                .build();
        return v;
    }

    private String token(ECKey key, String issuer, String aud) throws Exception {
        return FakeKeyhold.sign(
                key,
                FakeKeyhold.claims(keyhold.issuer(issuer), aud, clock.instant()).build());
    }

    private String reason(String token) {
        Verdict r = v.validate(token);
        return r.valid() ? null : r.reason();
    }

    @Test
    void everyCheckInTheContractOrder() throws Exception {
        validator();
        String good = token(a1, "a", "api://a");
        Verdict ok = v.validate(good);
        assertTrue(ok.valid());
        assertEquals(keyhold.issuer("a").uri, ok.iss());
        assertEquals(a1.getKeyID(), ok.kid());

        assertEquals("malformed", reason("abc"));
        assertEquals("malformed", reason(null));
        assertEquals("malformed", reason(b64("{\"alg\":\"ES256\",\"alg\":\"none\"}") + ".e30."));
        SignedJWT crit = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.ES256)
                        .keyID(a1.getKeyID())
                        .criticalParams(Set.of("exp"))
                        .customParam("exp", 1)
                        .build(),
                FakeKeyhold.claims(keyhold.issuer("a"), "api://a", clock.instant())
                        .build());
        crit.sign(new ECDSASigner(a1));
        assertEquals("malformed", reason(crit.serialize()));

        JWTClaimsSet foreign = new JWTClaimsSet.Builder(
                        FakeKeyhold.claims(keyhold.issuer("a"), "api://a", clock.instant())
                                .build())
                .issuer("https://nobody.example")
                .build();
        assertEquals("issuer_not_allowed", reason(FakeKeyhold.sign(a1, foreign)));
        // A's key, claiming B with B's audience: the key is not B's
        assertEquals("kid_not_bound_to_issuer", reason(token(a1, "b", "api://b")));
        String[] parts = good.split("\\.");
        String none = b64("{\"alg\":\"none\",\"kid\":\"" + a1.getKeyID() + "\"}") + "." + parts[1] + ".";
        assertEquals("malformed", reason(none)); // an empty signature part is not base64url
        assertEquals(
                "invalid_signature",
                reason(b64("{\"alg\":\"none\",\"kid\":\"" + a1.getKeyID() + "\"}") + "." + parts[1] + ".AA"));
        assertEquals("malformed", reason(good + "=="));
        SignedJWT hs = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(a1.getKeyID()).build(),
                FakeKeyhold.claims(keyhold.issuer("a"), "api://a", clock.instant())
                        .build());
        hs.sign(new MACSigner(a1.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8)));
        assertEquals("invalid_signature", reason(hs.serialize()));
        String swapped = b64("{\"alg\":\"ES384\",\"kid\":\"" + a1.getKeyID() + "\"}") + "." + parts[1] + "." + parts[2];
        assertEquals("invalid_signature", reason(swapped));
        assertEquals("audience_not_allowed", reason(token(a1, "a", "api://b")));
        JWTClaimsSet expired = new JWTClaimsSet.Builder(
                        FakeKeyhold.claims(keyhold.issuer("a"), "api://a", clock.instant())
                                .build())
                .expirationTime(Date.from(clock.instant()))
                .build();
        assertEquals("expired", reason(FakeKeyhold.sign(a1, expired)));
        JWTClaimsSet early = new JWTClaimsSet.Builder(
                        FakeKeyhold.claims(keyhold.issuer("a"), "api://a", clock.instant())
                                .build())
                .notBeforeTime(Date.from(clock.instant().plusSeconds(1)))
                .build();
        assertEquals("expired", reason(FakeKeyhold.sign(a1, early)));
        // embedded keys in the header change nothing: the key comes from the issuer
        SignedJWT jwk = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.ES256)
                        .keyID(a1.getKeyID())
                        .type(JOSEObjectType.JWT)
                        .jwk(a1.toPublicJWK())
                        .jwkURL(java.net.URI.create("https://evil.example/jwks"))
                        .build(),
                FakeKeyhold.claims(keyhold.issuer("a"), "api://a", clock.instant())
                        .build());
        jwk.sign(new ECDSASigner(a1));
        assertNull(reason(jwk.serialize()));

        assertEquals(1L, v.verdictCounts().get("a").get("audience_not_allowed"));
        assertEquals(1L, v.verdictCounts().get(KeyholdValidator.UNTRUSTED).get("issuer_not_allowed"));
    }

    @Test
    void aRevocationOnTheFeedDropsTheKeyAtOnceAndSuspensionRefusesTheIssuerUntilResumed() throws Exception {
        validator();
        String good = token(a1, "a", "api://a");
        assertNull(reason(good));
        int jwksBefore = keyhold.hits("/issuers/a/.well-known/jwks.json");
        keyhold.setState("a", a1.getKeyID(), "REVOKED", null);
        long id = keyhold.event("keyhold.key.revoked", "a", a1.getKeyID());
        await("revocation applied", () -> v.feedStatus().lastEventId() == id);
        assertEquals("key_not_usable", reason(good));
        // dropped from the feed, not refetched
        assertEquals(jwksBefore, keyhold.hits("/issuers/a/.well-known/jwks.json"));

        String b = token(b1, "b", "api://b");
        assertNull(reason(b));
        long s = keyhold.event("keyhold.issuer.suspended", "b", null);
        await("suspension applied", () -> v.feedStatus().lastEventId() == s);
        assertEquals("issuer_not_allowed", reason(b));
        long r = keyhold.event("keyhold.issuer.resumed", "b", null);
        await("resume applied", () -> v.feedStatus().lastEventId() == r);
        assertNull(reason(b));
    }

    @Test
    void otherKeyEventsReloadTheIssuerWithIfNoneMatch() throws Exception {
        validator();
        ECKey a2 = keyhold.addKey("a", "PENDING");
        String t2 = token(a2, "a", "api://a");
        int before = keyhold.hits("/issuers/a/.well-known/jwks.json");
        keyhold.event("keyhold.key.created", "a", a2.getKeyID());
        await("new key loaded", () -> v.validate(t2).valid());
        assertTrue(keyhold.hits("/issuers/a/.well-known/jwks.json") > before);
        // a retired key stops at its publishedUntil at use time, with no further event
        Instant until = clock.instant().plusSeconds(30);
        keyhold.setState("a", a1.getKeyID(), "RETIRED", until);
        String t1 = token(a1, "a", "api://a");
        clock.advance(Duration.ofSeconds(30));
        assertNull(reason(t1));
        keyhold.event("keyhold.key.retired", "a", a1.getKeyID());
        await("retirement reloaded", () -> "key_not_usable".equals(reason(t1)));
        clock.advance(Duration.ofSeconds(-1));
        assertNull(reason(t1));
    }

    @Test
    void unknownKidsReloadAtMostOncePerCooldown() throws Exception {
        validator();
        ECKey stranger = new com.nimbusds.jose.jwk.gen.ECKeyGenerator(com.nimbusds.jose.jwk.Curve.P_256)
                .keyID("x".repeat(43))
                .generate();
        int before = keyhold.hits("/issuers/a/.well-known/jwks.json");
        for (int i = 0; i < 50; i++) {
            ECKey k = new ECKey.Builder(stranger).keyID("forged-" + i).build();
            assertEquals("kid_not_bound_to_issuer", reason(token(k, "a", "api://a")));
        }
        assertEquals(before + 1, keyhold.hits("/issuers/a/.well-known/jwks.json"));
        clock.advance(Duration.ofSeconds(30));
        assertEquals(
                "kid_not_bound_to_issuer",
                reason(token(new ECKey.Builder(stranger).keyID("late").build(), "a", "api://a")));
        assertEquals(before + 2, keyhold.hits("/issuers/a/.well-known/jwks.json"));
        // a kid that appeared without an event is found by that one reload
        clock.advance(Duration.ofSeconds(30));
        ECKey a2 = keyhold.addKey("a", "ACTIVE");
        assertNull(reason(token(a2, "a", "api://a")));
    }

    @Test
    void aRevocationWhileDisconnectedIsHonouredOnReconnectBeforeAnyTokenIsAccepted() throws Exception {
        validator();
        String good = token(a1, "a", "api://a");
        assertNull(reason(good));
        long seen = keyhold.event("keyhold.key.activated", "a", a1.getKeyID());
        await("an event seen", () -> v.feedStatus().lastEventId() == seen);
        keyhold.refuse = true;
        keyhold.cutStreams();
        await("feed lost", () -> !v.feedStatus().connected());
        keyhold.setState("a", a1.getKeyID(), "REVOKED", null);
        long revoked = keyhold.event("keyhold.key.revoked", "a", a1.getKeyID());
        // within maxStaleness the validator goes on with what it knows; past it, and unable to reload: stale
        clock.advance(Duration.ofSeconds(61));
        assertEquals("stale", reason(good));
        keyhold.refuse = false;
        // from the moment the server answers until the validator is connected, the token is never accepted
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!v.feedStatus().connected() && System.nanoTime() < end) {
            assertFalse(v.validate(good).valid());
        }
        assertTrue(v.feedStatus().connected());
        assertEquals("key_not_usable", reason(good));
        assertEquals(revoked, v.feedStatus().lastEventId());
        // resumed with Last-Event-ID, so no full reload was needed
        assertEquals(String.valueOf(revoked), keyhold.lastEventIds.get(keyhold.lastEventIds.size() - 1));
    }

    @Test
    void aServerThatCannotResumeMakesAFullReload() throws Exception {
        validator();
        keyhold.event("keyhold.key.created", "b", b1.getKeyID());
        long last = keyhold.event("keyhold.key.activated", "b", b1.getKeyID());
        await("events seen", () -> v.feedStatus().lastEventId() == last);
        String good = token(a1, "a", "api://a");
        assertNull(reason(good));
        keyhold.refuse = true;
        keyhold.cutStreams();
        await("feed lost", () -> !v.feedStatus().connected());
        // restored from an older backup: the event the validator saw last is gone, and the key was revoked meanwhile
        keyhold.resetHistory();
        keyhold.setState("a", a1.getKeyID(), "REVOKED", null);
        int reloadsBefore = keyhold.hits("/issuers/a/.well-known/keyhold-issuer.json");
        keyhold.refuse = false;
        await("reconnected", () -> v.feedStatus().connected());
        assertTrue(keyhold.hits("/issuers/a/.well-known/keyhold-issuer.json") > reloadsBefore);
        assertEquals("null", keyhold.lastEventIds.get(keyhold.lastEventIds.size() - 1), "reopened from now");
        assertEquals("key_not_usable", reason(good));
    }

    @Test
    void aJwksThatServesAnotherIssuersKeyContributesNothing() throws Exception {
        // B's JWKS also serves A's key (a broken or hostile JWKS): B's status document does not list it
        keyhold.issuer("b").keys.put(a1.getKeyID(), a1);
        validator();
        assertEquals("kid_not_bound_to_issuer", reason(token(a1, "b", "api://b")));
        assertTrue(v.jwkSource("b")
                .get(
                        new com.nimbusds.jose.jwk.JWKSelector(new com.nimbusds.jose.jwk.JWKMatcher.Builder()
                                .keyID(a1.getKeyID())
                                .build()),
                        null)
                .isEmpty());
        assertEquals(
                List.of(a1.getKeyID()),
                v
                        .jwkSource("a")
                        .get(
                                new com.nimbusds.jose.jwk.JWKSelector(new com.nimbusds.jose.jwk.JWKMatcher.Builder()
                                        .keyID(a1.getKeyID())
                                        .build()),
                                null)
                        .stream()
                        .map(com.nimbusds.jose.jwk.JWK::getKeyID)
                        .toList());
    }

    @Test
    void verdictLogAndListenersNeverSeeTheToken() throws Exception {
        List<Verdict> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<String> reported = new java.util.concurrent.CopyOnWriteArrayList<>();
        v = KeyholdValidator.builder(keyhold.uri())
                .trust("a", Set.of("api://a"))
                .clock(clock)
                .logVerdicts(true)
                .listener(seen::add)
                .reporter((t, r) -> reported.add(t))
                .build();
        String t = token(a1, "a", "api://a");
        v.validate(t);
        assertEquals(1, seen.size());
        assertFalse(seen.get(0).toString().contains(t.split("\\.")[2]));
        assertEquals(List.of(t), reported);
    }

    private static String b64(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
