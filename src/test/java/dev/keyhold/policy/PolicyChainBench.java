package dev.keyhold.policy;

import dev.keyhold.config.TrustSettings;
import dev.keyhold.custodian.ApprovalSignatures;
import dev.keyhold.custodian.Seal;
import dev.keyhold.custodian.ssh.SshSig;
import dev.keyhold.domain.CanonicalJson;
import dev.keyhold.domain.IssuerPolicy;
import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.HsmPort;
import java.lang.reflect.Field;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Custodian-signature verification bench (plain Java, no Quarkus, no database, no HSM). Goals: a chain of 1,000
 * policy versions verifies in < 100 ms; an approval is verified in < 5 ms.
 *
 * <p>Builds in memory a chain of N policy versions of one issuer with 3 custodians (alice, bob, carol; one Ed25519
 * SSH credential each): version 1 sealed (ES256 JWS made by {@link Seal#seal} with an in-memory P-256 key standing in
 * for the HSM seal key), versions 2..N each a POLICY_CHANGE approved by bob and carol (2 of 3, approvalsRequired 2)
 * with SSHSIG signatures ({@link SshSig#sign}, namespace keyhold-approval) over a statement like the production one.
 *
 * <p>Chain timing runs the production {@code PolicyChain.verifyVersions} (what {@code PolicyChain.verify} does after
 * reading the rows): per version JSON parse, canonical JSON re-serialisation, SHA-256 digest and link checks, then the
 * evidence — the seal's ES256 verification for version 1, for each later version the statement checks and
 * {@link Approvals#count} → {@link ApprovalSignatures#verify} → {@link SshSig#verify} for both signatures. "cold": a
 * fresh PolicyChain each run (nothing verified yet by this process, as after a start); "cached": the same instance
 * again (evidence already verified is skipped, links and digests are always checked). Not included: the SELECT of
 * the versions from PostgreSQL and the HSM head-mirror comparison (one PKCS#11 data-object read), nor the HSM read of
 * the seal public key (cached by Seal after the first use in production too).
 *
 * <p>Approval timing: one {@link ApprovalSignatures#verify} of a stored SSHSIG signature over a statement (parse of
 * the public key line, SSHSIG decode, SHA-512 of the statement, Ed25519 verify), and one {@link Approvals#count} of a
 * 2-signature statement against a policy document (what deciding a request verifies).
 *
 * <p>Usage: java -cp CLASSPATH dev.keyhold.policy.PolicyChainBench [versions=1000] [runs=30] [warmupRuns=20]
 * [approvalRuns=2000]. Prints one "result" line.
 */
public class PolicyChainBench {

    static final String ISSUER = "bench";
    static final List<String> CUSTODIANS = List.of("alice", "bob", "carol");

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        int approvalRuns = args.length > 3 ? Integer.parseInt(args[3]) : 2000;

        Map<String, KeyPair> keys = new LinkedHashMap<>();
        KeyPairGenerator ed = KeyPairGenerator.getInstance("Ed25519");
        for (String c : CUSTODIANS) {
            keys.put(c, ed.generateKeyPair());
        }
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair sealKey = ec.generateKeyPair();
        Seal seal = seal(sealKey);
        Approvals approvals = new Approvals();
        approvals.signatures = new ApprovalSignatures();

        long t0 = System.nanoTime();
        List<PolicyChain.Version> chain = buildChain(n, keys, seal);
        System.err.printf("built %d versions in %.1f s%n", n, (System.nanoTime() - t0) / 1e9);

        // The bench must measure a verification that can fail: a chain with one forged signature is refused.
        requireRefused(chain, seal, approvals, keys);

        // Chain verification, cold (fresh process cache each run) and cached.
        double[] cold = timeRuns(warmup, runs, () -> chain(seal, approvals).verifyVersions(ISSUER, chain));
        PolicyChain warmChain = chain(seal, approvals);
        warmChain.verifyVersions(ISSUER, chain);
        double[] cached = timeRuns(warmup, runs, () -> warmChain.verifyVersions(ISSUER, chain));
        // Cold again, with the head the HSM mirror records (what PolicyChain.verify passes once it has read the mirror
        // in a new process): links, digests and canonical form of every version, no evidence below the recorded head.
        double[] recorded =
                timeRuns(warmup, runs, () -> chain(seal, approvals).verifyVersions(ISSUER, chain, chain.size()));

        // One approval: the last link's first signature over its statement.
        PolicyChain.Version last = chain.get(chain.size() - 1);
        Map<String, Object> ev = last.evidenceMap();
        String statement = (String) ev.get("statement");
        Map<String, Object> stmt = PolicyDocuments.parse(statement);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> sigs = (List<Map<String, Object>>) ev.get("signatures");
        Map<String, Object> prevDoc = chain.get(chain.size() - 2).doc();
        Map<String, Object> credential =
                Approvals.find(List.of(prevDoc), "bob", sigs.get(0).get("credentialId"));
        ApprovalSignatures verifier = approvals.signatures;
        int batch = Math.max(1, approvalRuns / runs);
        double[] one = timeRuns(warmup, runs, () -> {
            for (int i = 0; i < batch; i++) {
                verifier.verify(credential, statement, sigs.get(0));
            }
        });
        List<Approvals.Signed> claimed = new ArrayList<>();
        for (Map<String, Object> s : sigs) {
            claimed.add(new Approvals.Signed((String) s.get("custodian"), s));
        }
        double[] count = timeRuns(warmup, runs, () -> {
            for (int i = 0; i < batch; i++) {
                if (approvals.count(statement, stmt, List.of(prevDoc), claimed).size() != 2) {
                    throw new IllegalStateException("approvals did not count");
                }
            }
        });
        scale(one, batch);
        scale(count, batch);

        System.out.printf(
                "result versions=%d custodians=3 approvals=2 runs=%d chain_cold_ms_median=%.2f chain_cold_ms_p99=%.2f"
                        + " chain_cold_hsm_recorded_head_ms_median=%.2f chain_cold_hsm_recorded_head_ms_p99=%.2f"
                        + " chain_cached_ms_median=%.2f chain_cached_ms_p99=%.2f approval_verify_ms_median=%.3f"
                        + " approval_verify_ms_p99=%.3f approvals_count2_ms_median=%.3f approvals_count2_ms_p99=%.3f"
                        + " goals: chain<100ms approval<5ms%n",
                n,
                runs,
                median(cold),
                p99(cold),
                median(recorded),
                p99(recorded),
                median(cached),
                p99(cached),
                median(one),
                p99(one),
                median(count),
                p99(count));
    }

    static void requireRefused(
            List<PolicyChain.Version> chain, Seal seal, Approvals approvals, Map<String, KeyPair> keys) {
        List<PolicyChain.Version> forged = forgeMiddle(chain, keys);
        try {
            chain(seal, approvals).verifyVersions(ISSUER, forged);
        } catch (PolicyViolation expected) {
            return;
        }
        throw new IllegalStateException("a chain with a forged approval verified");
    }

    /** The chain with carol's signature on the middle version replaced by one of alice's key (one valid left). */
    static List<PolicyChain.Version> forgeMiddle(List<PolicyChain.Version> chain, Map<String, KeyPair> keys) {
        int i = chain.size() / 2;
        PolicyChain.Version v = chain.get(i);
        Map<String, Object> ev = v.evidenceMap();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> sigs = (List<Map<String, Object>>) ev.get("signatures");
        sigs.get(1)
                .put(
                        "value",
                        SshSig.sign(
                                keys.get("alice"),
                                ApprovalSignatures.NAMESPACE,
                                ((String) ev.get("statement")).getBytes(StandardCharsets.UTF_8)));
        List<PolicyChain.Version> forged = new ArrayList<>(chain);
        forged.set(
                i,
                new PolicyChain.Version(
                        v.version(), v.document(), v.digest(), CanonicalJson.canonicalize(ev), v.createdAt()));
        return forged;
    }

    static PolicyChain chain(Seal seal, Approvals approvals) {
        PolicyChain c = new PolicyChain();
        c.seal = seal;
        c.approvals = approvals;
        return c;
    }

    /** Warms up (at least {@code warmup} runs, then until the median of the last 5 moves < 5 %), then times runs. */
    static double[] timeRuns(int warmup, int runs, Runnable r) {
        List<Double> recent = new ArrayList<>();
        double lastMedian = Double.NaN;
        for (int i = 0; i < warmup * 10; i++) {
            long s = System.nanoTime();
            r.run();
            recent.add((System.nanoTime() - s) / 1e6);
            if (recent.size() > 5) {
                recent.remove(0);
            }
            if (i + 1 >= warmup && recent.size() == 5) {
                double m =
                        median(recent.stream().mapToDouble(Double::doubleValue).toArray());
                if (Math.abs(m - lastMedian) < 0.05 * m) {
                    break;
                }
                lastMedian = m;
            }
        }
        double[] out = new double[runs];
        for (int i = 0; i < runs; i++) {
            long s = System.nanoTime();
            r.run();
            out[i] = (System.nanoTime() - s) / 1e6;
        }
        return out;
    }

    static void scale(double[] a, int by) {
        for (int i = 0; i < a.length; i++) {
            a[i] /= by;
        }
    }

    static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static double p99(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.ceil(0.99 * s.length) - 1)];
    }

    static List<PolicyChain.Version> buildChain(int n, Map<String, KeyPair> keys, Seal seal) {
        PolicyDocuments.Fields f = new PolicyDocuments.Fields(
                ISSUER,
                "https://bench.example",
                "issuers",
                IssuerStatus.ACTIVE,
                SigningAlgorithm.ES256,
                List.of("api"),
                List.of("signer"),
                2,
                CUSTODIANS,
                new IssuerPolicy(
                        Duration.ofDays(30),
                        Duration.ofDays(2),
                        Duration.ofHours(1),
                        Duration.ofDays(1),
                        Duration.ofDays(7),
                        Duration.ofHours(24)));
        Map<String, Object> doc = PolicyDocuments.document(f, 1, null, name -> {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("id", name + "-ssh");
            c.put("format", "sshsig");
            c.put("publicKey", SshSig.publicKeyLine(keys.get(name).getPublic(), name + "@bench"));
            return List.of(c);
        });
        List<PolicyChain.Version> out = new ArrayList<>();
        String text = PolicyDocuments.canonical(doc);
        String digest = PolicyDocuments.digest(text);
        Map<String, Object> sealed = new LinkedHashMap<>();
        sealed.put("sealedBy", "hsm");
        sealed.put("reason", "created");
        sealed.put("seal", seal.seal(PolicyChain.sealPayload(ISSUER, 1, digest, "created")));
        out.add(new PolicyChain.Version(1, text, digest, CanonicalJson.canonicalize(sealed), Instant.EPOCH));
        for (int v = 2; v <= n; v++) {
            PolicyChain.Version prev = out.get(out.size() - 1);
            Map<String, Object> next =
                    PolicyDocuments.with(prev.doc(), Map.of("audiences", List.of("api", "api-" + v)));
            next.put("version", v);
            next.put("previous", prev.digest());
            String nextText = PolicyDocuments.canonical(next);
            String nextDigest = PolicyDocuments.digest(nextText);
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("type", Statements.TYPE);
            s.put("issuer", ISSUER);
            s.put("request", "00000000-0000-4000-8000-" + String.format("%012d", v));
            s.put("kind", "POLICY_CHANGE");
            s.put("requester", "admin");
            s.put("subject", Map.of("policyDigest", nextDigest));
            s.put("policyVersion", v - 1);
            s.put("policyDigest", prev.digest());
            s.put("approvalsRequired", 2);
            s.put("expiresAt", Instant.EPOCH.plusSeconds(86_400L * v).toString());
            s.put("nonce", "bench-nonce-" + v);
            String statement = CanonicalJson.canonicalize(s);
            List<Map<String, Object>> signatures = new ArrayList<>();
            for (String c : List.of("bob", "carol")) {
                Map<String, Object> sig = new LinkedHashMap<>();
                sig.put("custodian", c);
                sig.put("format", "sshsig");
                sig.put("credentialId", c + "-ssh");
                sig.put(
                        "value",
                        SshSig.sign(
                                keys.get(c), ApprovalSignatures.NAMESPACE, statement.getBytes(StandardCharsets.UTF_8)));
                signatures.add(sig);
            }
            Map<String, Object> evidence = new LinkedHashMap<>();
            evidence.put("approvedBy", "custodians");
            evidence.put("request", s.get("request"));
            evidence.put("statement", statement);
            evidence.put("signatures", signatures);
            out.add(new PolicyChain.Version(
                    v, nextText, nextDigest, CanonicalJson.canonicalize(evidence), Instant.EPOCH));
        }
        return out;
    }

    /** The production Seal with an in-memory P-256 key in place of the HSM's seal key (ES256, raw r||s as JWS wants). */
    static Seal seal(KeyPair key) throws Exception {
        HsmPort hsm = (HsmPort) Proxy.newProxyInstance(
                HsmPort.class.getClassLoader(), new Class<?>[] {HsmPort.class}, (p, m, a) -> switch (m.getName()) {
                    case "sign" -> {
                        Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
                        s.initSign(key.getPrivate());
                        s.update((byte[]) a[3]);
                        yield s.sign();
                    }
                    case "publicKeyOrGenerate" -> key.getPublic();
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        TrustSettings trust = (TrustSettings) Proxy.newProxyInstance(
                TrustSettings.class.getClassLoader(), new Class<?>[] {TrustSettings.class}, (p, m, a) -> {
                    if (m.getName().equals("partition")) {
                        return "trust";
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
        Seal seal = new Seal();
        set(seal, "hsm", hsm);
        set(seal, "trust", trust);
        return seal;
    }

    static void set(Object target, String field, Object value) throws Exception {
        Field f = target.getClass().getDeclaredField(field);
        f.setAccessible(true);
        f.set(target, value);
    }
}
