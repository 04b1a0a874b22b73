package dev.keyhold.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.domain.Key;
import dev.keyhold.domain.KeyState;
import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.issuer.Issuer;
import dev.keyhold.issuer.IssuerValidator;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class BundleContentTest {

    static final Instant T = Instant.parse("2026-12-01T10:00:00Z");

    static Issuer issuer(SigningAlgorithm alg, IssuerStatus status) {
        return new Issuer(
                "acme",
                "https://id.acme.example",
                "default",
                alg,
                List.of("api://acme"),
                List.of("alice", "bob"),
                2,
                List.of("signer"),
                IssuerValidator.DEFAULTS,
                status,
                T,
                dev.keyhold.issuer.EvidencePolicy.DEFAULT);
    }

    static Key key(String kid, String issuer, KeyState state, Instant unpublishedAt, Instant revokedAt) {
        return new Key(
                kid,
                issuer,
                SigningAlgorithm.ES256,
                "default",
                "kh-" + kid,
                "{\"kty\":\"EC\",\"kid\":\"" + kid + "\",\"crv\":\"P-256\",\"x\":\"x\",\"y\":\"y\"}",
                state,
                T,
                T,
                T,
                T,
                T,
                T,
                unpublishedAt,
                null,
                null,
                revokedAt,
                revokedAt == null ? null : "why",
                null);
    }

    @Test
    void publishesWhatTheRecordedStatesPublishNeverByTheClock() {
        List<Key> keys = List.of(
                key("p", "acme", KeyState.PENDING, null, null),
                key("a", "acme", KeyState.ACTIVE, null, null),
                key("r", "acme", KeyState.RETIRED, null, null),
                key("u", "acme", KeyState.RETIRED, T, null),
                key("x", "acme", KeyState.REVOKED, null, T),
                key("d", "acme", KeyState.DESTROYED, T, T.plusSeconds(1)));
        var c = BundleContent.of(issuer(SigningAlgorithm.ES256, IssuerStatus.ACTIVE), keys, 300, 7, null);
        assertThat(BundleContent.kids(c.payload())).containsExactly("p", "a", "r");
        assertThat(c.canonical())
                .contains("\"revoked\":[{\"kid\":\"x\",\"reason\":\"why\",\"revokedAt\":\"2026-12-01T10:00:00Z\"},"
                        + "{\"kid\":\"d\",\"reason\":\"why\",\"revokedAt\":\"2026-12-01T10:00:01Z\"}]");
        // Same state, same bytes; sequence and rollbackOf do not change the digest.
        var again = BundleContent.of(issuer(SigningAlgorithm.ES256, IssuerStatus.ACTIVE), keys, 300, 8, 3L);
        assertThat(again.digest()).isEqualTo(c.digest());
        assertThat(BundleContent.of(issuer(SigningAlgorithm.ES256, IssuerStatus.ACTIVE), keys, 300, 7, null)
                        .canonical())
                .isEqualTo(c.canonical());
    }

    @Test
    void eachTrustFieldChangesTheDigest() {
        List<Key> keys = List.of(key("a", "acme", KeyState.ACTIVE, null, null));
        String base = BundleContent.of(issuer(SigningAlgorithm.ES256, IssuerStatus.ACTIVE), keys, 300, 1, null)
                .digest();
        assertThat(BundleContent.of(issuer(SigningAlgorithm.ES384, IssuerStatus.ACTIVE), keys, 300, 1, null)
                        .digest())
                .isNotEqualTo(base);
        assertThat(BundleContent.of(issuer(SigningAlgorithm.ES256, IssuerStatus.SUSPENDED), keys, 300, 1, null)
                        .digest())
                .isNotEqualTo(base);
        assertThat(BundleContent.of(issuer(SigningAlgorithm.ES256, IssuerStatus.ACTIVE), List.of(), 300, 1, null)
                        .digest())
                .isNotEqualTo(base);
        assertThat(BundleContent.of(issuer(SigningAlgorithm.ES256, IssuerStatus.ACTIVE), keys, 60, 1, null)
                        .digest())
                .isNotEqualTo(base);
    }

    @Test
    void aKeyOfAnotherIssuerIsRefused() {
        assertThatThrownBy(() -> BundleContent.of(
                        issuer(SigningAlgorithm.ES256, IssuerStatus.ACTIVE),
                        List.of(key("z", "other", KeyState.ACTIVE, null, null)),
                        300,
                        1,
                        null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("other");
    }
}
