package dev.keyhold.validator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.util.JSONObjectUtils;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The validator given a trust anchor: it reads signed trust bundles (fixtures signed here with a trust key the test
 * makes) instead of the bare JWKS, and refuses each attack with its reason in {@link TrustBundleStatus}.
 */
class TrustBundleValidatorTest {

    FakeKeyhold keyhold;
    TestClock clock = new TestClock();
    KeyholdValidator v;
    ECKey trust;
    ECKey a1;
    ECKey b1;

    @BeforeEach
    void start() throws Exception {
        keyhold = new FakeKeyhold();
        trust = new ECKeyGenerator(Curve.P_256).keyIDFromThumbprint(true).generate();
        a1 = keyhold.addKey("a", "ACTIVE");
        b1 = keyhold.addKey("b", "ACTIVE");
        keyhold.trustBundles.put("a", bundle(trust, "a", 1, List.of(a1), List.of()));
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
                .trustAnchor(new JWKSet(trust.toPublicJWK()))
                .clock(clock)
                .maxStaleness(Duration.ofSeconds(60))
                .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(100))
                .build();
        return v;
    }

    private Map<String, Object> content(String sub, long sequence, List<ECKey> keys, List<String> revoked) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("sub", sub);
        p.put("issuerUri", keyhold.issuer(sub).uri);
        p.put("status", "ACTIVE");
        p.put("sequence", sequence);
        p.put("iat", clock.instant().getEpochSecond());
        p.put("exp", clock.instant().plus(Duration.ofHours(24)).getEpochSecond());
        p.put("refreshHint", 300);
        p.put("audiences", List.of("api://" + sub));
        p.put("algorithms", List.of("ES256"));
        List<Object> jwks = new ArrayList<>();
        keys.forEach(k -> jwks.add(k.toPublicJWK().toJSONObject()));
        p.put("keys", jwks);
        List<Object> rev = new ArrayList<>();
        revoked.forEach(
                kid -> rev.add(Map.of("kid", kid, "revokedAt", clock.instant().toString(), "reason", "compromise")));
        p.put("revoked", rev);
        p.put("previous", null);
        p.put("rollbackOf", null);
        return p;
    }

    private String bundle(ECKey by, String sub, long sequence, List<ECKey> keys, List<String> revoked)
            throws Exception {
        return sign(by, Map.of(), content(sub, sequence, keys, revoked)).serialize();
    }

    private static JWSObject sign(ECKey by, Map<String, Object> extraHeader, Map<String, Object> payload)
            throws Exception {
        JWSHeader.Builder h = new JWSHeader.Builder(JWSAlgorithm.ES256)
                .keyID(by.getKeyID())
                .type(new JOSEObjectType("keyhold-trust-bundle+jwt"));
        extraHeader.forEach(h::customParam);
        JWSObject o = new JWSObject(h.build(), new Payload(JSONObjectUtils.toJSONString(payload)));
        o.sign(new ECDSASigner(by));
        return o;
    }

    /** A trust key takeover's bundle, as Keyhold serves it: one payload, the old key's signature naming its successor. */
    private static String takeover(ECKey old, ECKey next, Map<String, Object> payload) throws Exception {
        return takeover(old, next, next, payload);
    }

    private static String takeover(ECKey old, ECKey named, ECKey next, Map<String, Object> payload) throws Exception {
        JWSObject byOld = sign(old, Map.of("successor", named.toPublicJWK().toJSONObject()), payload);
        JWSObject byNew = new JWSObject(
                new JWSHeader.Builder(JWSAlgorithm.ES256)
                        .keyID(next.getKeyID())
                        .type(new JOSEObjectType("keyhold-trust-bundle+jwt"))
                        .build(),
                byOld.getPayload());
        byNew.sign(new ECDSASigner(next));
        String[] o = byOld.serialize().split("\\.");
        String[] n = byNew.serialize().split("\\.");
        return JSONObjectUtils.toJSONString(Map.of(
                "payload",
                o[1],
                "signatures",
                List.of(Map.of("protected", o[0], "signature", o[2]), Map.of("protected", n[0], "signature", n[2]))));
    }

    private String token(ECKey key) throws Exception {
        return FakeKeyhold.sign(
                key,
                FakeKeyhold.claims(keyhold.issuer("a"), "api://a", clock.instant())
                        .build());
    }

    private String refused() {
        return v.trustBundleStatus("a").lastRefusal();
    }

    @Test
    void readsTheSignedBundleNotTheBareJwks() throws Exception {
        ECKey onlyInJwks = keyhold.addKey("a", "ACTIVE");
        validator();
        assertTrue(v.validate(token(a1)).valid());
        assertEquals(
                Verdict.KID_NOT_BOUND_TO_ISSUER,
                v.validate(token(onlyInJwks)).reason(),
                "a key the bundle does not carry is not trusted, whatever the JWKS says");
        assertEquals(0, keyhold.hits("/issuers/a/.well-known/jwks.json"));
        TrustBundleStatus s = v.trustBundleStatus("a");
        assertEquals(1, s.sequence());
        assertNull(s.lastRefusal());
        assertEquals(List.of(trust.getKeyID()), s.anchorKids());
    }

    @Test
    void aLowerSequenceIsRefusedAndTheAcceptedBundleStays() throws Exception {
        keyhold.trustBundles.put("a", bundle(trust, "a", 2, List.of(a1), List.of()));
        validator();
        assertEquals(2, v.trustBundleStatus("a").sequence());
        keyhold.trustBundles.put("a", bundle(trust, "a", 1, List.of(a1), List.of()));
        assertFalse(v.refresh("a"));
        assertEquals(TrustBundleStatus.LOWER_SEQUENCE, refused());
        assertEquals(2, v.trustBundleStatus("a").sequence());
        assertTrue(v.validate(token(a1)).valid());
        // The same sequence with other content is not a re-signature.
        ECKey a2 = keyhold.addKey("a", "PENDING");
        keyhold.trustBundles.put("a", bundle(trust, "a", 2, List.of(a1, a2), List.of()));
        assertFalse(v.refresh("a"));
        assertEquals(TrustBundleStatus.SEQUENCE_REUSED, refused());
        // A re-signature (same content, later iat/exp) and a higher sequence are accepted; the refusal clears.
        clock.advance(Duration.ofHours(1));
        keyhold.trustBundles.put("a", bundle(trust, "a", 2, List.of(a1), List.of()));
        assertTrue(v.refresh("a"));
        assertNull(refused());
        keyhold.trustBundles.put("a", bundle(trust, "a", 3, List.of(a1, a2), List.of()));
        assertTrue(v.refresh("a"));
        assertEquals(3, v.trustBundleStatus("a").sequence());
    }

    @Test
    void anExpiredBundleIsRefusedAndAHeldOneFailsClosedOnceExpired() throws Exception {
        validator();
        String fresh = bundle(trust, "a", 2, List.of(a1), List.of());
        clock.advance(Duration.ofHours(25));
        keyhold.trustBundles.put("a", fresh);
        assertFalse(v.refresh("a"));
        assertEquals(TrustBundleStatus.EXPIRED, refused());
        // The held bundle (sequence 1) expired too: a freeze, so the issuer's tokens are stale, not trusted.
        assertEquals(Verdict.STALE, v.validate(token(a1)).reason());
        assertTrue(v.jwkSource("a")
                .get(
                        new com.nimbusds.jose.jwk.JWKSelector(new com.nimbusds.jose.jwk.JWKMatcher.Builder().build()),
                        null)
                .isEmpty());
        keyhold.trustBundles.put("a", bundle(trust, "a", 2, List.of(a1), List.of()));
        assertTrue(v.refresh("a"));
        assertTrue(v.validate(token(a1)).valid());
    }

    @Test
    void anotherIssuersBundleABadSignatureAndAnUnknownKeyAreRefused() throws Exception {
        validator();
        keyhold.trustBundles.put("a", bundle(trust, "b", 5, List.of(b1), List.of()));
        assertFalse(v.refresh("a"));
        assertEquals(TrustBundleStatus.WRONG_ISSUER, refused());

        String[] parts = bundle(trust, "a", 5, List.of(a1, b1), List.of()).split("\\.");
        String[] other = bundle(trust, "a", 5, List.of(a1), List.of()).split("\\.");
        keyhold.trustBundles.put("a", parts[0] + "." + parts[1] + "." + other[2]);
        assertFalse(v.refresh("a"));
        assertEquals(TrustBundleStatus.BAD_SIGNATURE, refused());

        ECKey stranger =
                new ECKeyGenerator(Curve.P_256).keyIDFromThumbprint(true).generate();
        keyhold.trustBundles.put("a", bundle(stranger, "a", 5, List.of(a1, b1), List.of()));
        assertFalse(v.refresh("a"));
        assertEquals(TrustBundleStatus.UNKNOWN_KEY, refused());
        // A forged takeover: the stranger names itself successor; no pinned key signed it.
        keyhold.trustBundles.put("a", takeover(stranger, stranger, content("a", 5, List.of(a1, b1), List.of())));
        assertFalse(v.refresh("a"));
        assertEquals(TrustBundleStatus.UNKNOWN_KEY, refused());
        keyhold.trustBundles.put("a", "not a bundle");
        assertFalse(v.refresh("a"));
        assertEquals(TrustBundleStatus.MALFORMED, refused());

        assertEquals(1, v.trustBundleStatus("a").sequence());
        assertEquals(List.of(trust.getKeyID()), v.trustBundleStatus("a").anchorKids());
        assertEquals(
                Verdict.KID_NOT_BOUND_TO_ISSUER,
                v.validate(FakeKeyhold.sign(
                                b1,
                                FakeKeyhold.claims(keyhold.issuer("a"), "api://a", clock.instant())
                                        .build()))
                        .reason());
    }

    @Test
    void aRevokedKeyInTheBundleIsNotUsable() throws Exception {
        keyhold.trustBundles.put("a", bundle(trust, "a", 2, List.of(), List.of(a1.getKeyID())));
        validator();
        assertEquals(Verdict.KEY_NOT_USABLE, v.validate(token(a1)).reason());
    }

    @Test
    void aDualSignedTakeoverMovesThePinToTheNewTrustKey() throws Exception {
        validator();
        ECKey next = new ECKeyGenerator(Curve.P_256).keyIDFromThumbprint(true).generate();
        // The new key alone before the takeover reached this validator: not pinned yet.
        keyhold.trustBundles.put("a", bundle(next, "a", 2, List.of(a1), List.of()));
        assertFalse(v.refresh("a"));
        assertEquals(TrustBundleStatus.UNKNOWN_KEY, refused());
        // A takeover whose second signature is not the named successor's is refused.
        ECKey impostor =
                new ECKeyGenerator(Curve.P_256).keyIDFromThumbprint(true).generate();
        Map<String, Object> p = content("a", 2, List.of(a1), List.of());
        String forged = takeover(trust, next, impostor, p);
        keyhold.trustBundles.put("a", forged);
        assertFalse(v.refresh("a"));
        assertTrue(
                Set.of(TrustBundleStatus.BAD_SIGNATURE, TrustBundleStatus.MALFORMED)
                        .contains(refused()),
                refused());

        keyhold.trustBundles.put("a", takeover(trust, next, p));
        assertTrue(v.refresh("a"));
        assertEquals(List.of(next.getKeyID()), v.trustBundleStatus("a").anchorKids());
        assertEquals(2, v.trustBundleStatus("a").sequence());
        // Later bundles by the new key alone are accepted; the retired key's are not.
        keyhold.trustBundles.put("a", bundle(next, "a", 3, List.of(a1), List.of()));
        assertTrue(v.refresh("a"));
        keyhold.trustBundles.put("a", bundle(trust, "a", 4, List.of(a1), List.of()));
        assertFalse(v.refresh("a"));
        assertEquals(TrustBundleStatus.UNKNOWN_KEY, refused());
        assertTrue(v.validate(token(a1)).valid());
    }

    @Test
    void theAnchorOptionIsCheckedWhenBuilt() {
        assertThrows(
                IllegalArgumentException.class,
                () -> KeyholdValidator.builder(keyhold.uri()).trustAnchor(new JWKSet()));
        assertThrows(
                IllegalArgumentException.class,
                () -> KeyholdValidator.builder(keyhold.uri())
                        .trust("a", Set.of("api://a"))
                        .trustAnchor(new JWKSet(trust))
                        .build(),
                "a private key is no anchor");
        KeyholdValidator bare = KeyholdValidator.builder(keyhold.uri())
                .trust("b", Set.of("api://b"))
                .clock(clock)
                .build();
        try {
            assertThrows(IllegalStateException.class, () -> bare.trustBundleStatus("b"));
        } finally {
            bare.close();
        }
    }
}
