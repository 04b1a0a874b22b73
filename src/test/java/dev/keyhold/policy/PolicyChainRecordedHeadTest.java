package dev.keyhold.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.custodian.ApprovalSignatures;
import dev.keyhold.custodian.Seal;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A new process trusts the policy head the HSM mirror records instead of re-checking every signature below it; the
 * head vouches only for the very chain whose digest it names, and everything above it is still checked in full.
 * Chains are built as {@link PolicyChainBench} builds them (version 1 sealed, later ones signed by 2 of 3 custodians).
 */
class PolicyChainRecordedHeadTest {

    static Map<String, KeyPair> keys = new LinkedHashMap<>();
    static Seal seal;
    static Approvals approvals;
    static List<PolicyChain.Version> chain;

    @BeforeAll
    static void build() throws Exception {
        KeyPairGenerator ed = KeyPairGenerator.getInstance("Ed25519");
        for (String c : PolicyChainBench.CUSTODIANS) {
            keys.put(c, ed.generateKeyPair());
        }
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new ECGenParameterSpec("secp256r1"));
        seal = PolicyChainBench.seal(ec.generateKeyPair());
        approvals = new Approvals();
        approvals.signatures = new ApprovalSignatures();
        chain = PolicyChainBench.buildChain(6, keys, seal);
    }

    static Optional<String[]> mirror(int version, String digest) {
        return Optional.of(new String[] {Integer.toString(version), digest});
    }

    @Test
    void theRecordedHeadCountsOnlyWhenTheStoredChainHasThatVeryVersion() {
        String d4 = chain.get(3).digest();
        assertThat(PolicyChain.recordedThrough(chain, mirror(4, d4))).isEqualTo(4);
        assertThat(PolicyChain.recordedThrough(chain, mirror(6, chain.get(5).digest())))
                .isEqualTo(6);
        assertThat(PolicyChain.recordedThrough(chain, mirror(4, chain.get(2).digest())))
                .as("another version's digest")
                .isZero();
        assertThat(PolicyChain.recordedThrough(chain, mirror(7, d4)))
                .as("a head beyond the stored chain (a rollback, refused by the mirror comparison)")
                .isZero();
        assertThat(PolicyChain.recordedThrough(chain, mirror(0, d4))).isZero();
        assertThat(PolicyChain.recordedThrough(chain, Optional.of(new String[] {"x", d4})))
                .isZero();
        assertThat(PolicyChain.recordedThrough(chain, Optional.of(new String[] {"4"})))
                .isZero();
        assertThat(PolicyChain.recordedThrough(chain, Optional.empty())).isZero();
    }

    @Test
    void aValidChainVerifiesWithAndWithoutTheRecordedHead() {
        PolicyChainBench.chain(seal, approvals).verifyVersions(PolicyChainBench.ISSUER, chain, 0);
        PolicyChainBench.chain(seal, approvals).verifyVersions(PolicyChainBench.ISSUER, chain, 6);
    }

    @Test
    void aDocumentBelowTheRecordedHeadRewrittenWithItsDigestIsStillRefused() {
        PolicyChain.Version v2 = chain.get(1);
        Map<String, Object> doc = v2.doc();
        doc.put("approvalsRequired", 1);
        String text = PolicyDocuments.canonical(doc);
        List<PolicyChain.Version> forged = new ArrayList<>(chain);
        forged.set(
                1,
                new PolicyChain.Version(
                        v2.version(), text, PolicyDocuments.digest(text), v2.evidence(), v2.createdAt()));
        assertThatThrownBy(() ->
                        PolicyChainBench.chain(seal, approvals).verifyVersions(PolicyChainBench.ISSUER, forged, 6))
                .isInstanceOf(PolicyViolation.class)
                .hasMessageContaining("does not follow its predecessor");
    }

    @Test
    void aForgedSignatureAboveTheRecordedHeadIsRefused() {
        List<PolicyChain.Version> forged = PolicyChainBench.forgeMiddle(chain, keys); // version 4 of 6
        assertThatThrownBy(() ->
                        PolicyChainBench.chain(seal, approvals).verifyVersions(PolicyChainBench.ISSUER, forged, 3))
                .isInstanceOf(PolicyViolation.class);
        assertThatThrownBy(() ->
                        PolicyChainBench.chain(seal, approvals).verifyVersions(PolicyChainBench.ISSUER, forged, 0))
                .isInstanceOf(PolicyViolation.class);
    }
}
