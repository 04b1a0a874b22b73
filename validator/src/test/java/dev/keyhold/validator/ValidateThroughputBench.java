package dev.keyhold.validator;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Instant;
import java.util.Date;
import java.util.Set;

/**
 * Benchmark (not a test; bench/validator-throughput.sh runs it): {@code validate()} against plain Nimbus verification
 * of the same token with a fixed key (parse, verify the signature, check iss, aud and exp), in one process, in
 * alternating rounds, one thread. Prints the median rate of each and their ratio.
 */
public final class ValidateThroughputBench {

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        long roundMillis = args.length > 1 ? Long.parseLong(args[1]) : 2000;
        try (FakeKeyhold keyhold = new FakeKeyhold()) {
            ECKey ec = keyhold.addKey("bench-es", "ACTIVE");
            RSAKey rsa = keyhold.addRsaKey("bench-rs", "ACTIVE");
            Instant now = Instant.now();
            String esToken = FakeKeyhold.sign(
                    ec,
                    FakeKeyhold.claims(keyhold.issuer("bench-es"), "api://bench", now)
                            .build());
            SignedJWT rs = new SignedJWT(
                    new JWSHeader.Builder(JWSAlgorithm.RS256)
                            .keyID(rsa.getKeyID())
                            .build(),
                    FakeKeyhold.claims(keyhold.issuer("bench-rs"), "api://bench", now)
                            .build());
            rs.sign(new RSASSASigner(rsa));
            String rsToken = rs.serialize();
            try (KeyholdValidator v = KeyholdValidator.builder(keyhold.uri())
                    .trust("bench-es", Set.of("api://bench"))
                    .trust("bench-rs", Set.of("api://bench"))
                    .build()) {
                run(
                        "ES256",
                        esToken,
                        new ECDSAVerifier(ec.toECPublicKey()),
                        keyhold.issuer("bench-es").uri,
                        v,
                        rounds,
                        roundMillis);
                run(
                        "RS256",
                        rsToken,
                        new RSASSAVerifier(rsa.toRSAPublicKey()),
                        keyhold.issuer("bench-rs").uri,
                        v,
                        rounds,
                        roundMillis);
            }
        }
    }

    private static void run(
            String alg,
            String token,
            JWSVerifier verifier,
            String iss,
            KeyholdValidator v,
            int rounds,
            long roundMillis)
            throws Exception {
        if (!v.validate(token).valid() || !nimbus(token, verifier, iss)) {
            throw new IllegalStateException("the bench token does not verify");
        }
        double[] kit = new double[rounds];
        double[] plain = new double[rounds];
        for (int r = -2; r < rounds; r++) { // two warm-up rounds
            double p = rate(roundMillis, () -> nimbus(token, verifier, iss));
            double k = rate(roundMillis, () -> v.validate(token).valid());
            if (r >= 0) {
                plain[r] = p;
                kit[r] = k;
            }
        }
        java.util.Arrays.sort(kit);
        java.util.Arrays.sort(plain);
        double km = kit[rounds / 2];
        double pm = plain[rounds / 2];
        System.out.printf("%s  plain Nimbus %.0f/s  validate() %.0f/s  ratio %.2f%n", alg, pm, km, km / pm);
    }

    interface Op {
        boolean run() throws Exception;
    }

    private static double rate(long millis, Op op) throws Exception {
        long end = System.nanoTime() + millis * 1_000_000;
        long n = 0;
        long start = System.nanoTime();
        while (System.nanoTime() < end) {
            if (!op.run()) {
                throw new IllegalStateException("refused during the bench");
            }
            n++;
        }
        return n / ((System.nanoTime() - start) / 1e9);
    }

    private static boolean nimbus(String token, JWSVerifier verifier, String iss) throws Exception {
        SignedJWT jwt = SignedJWT.parse(token);
        if (!jwt.verify(verifier)) {
            return false;
        }
        JWTClaimsSet c = jwt.getJWTClaimsSet();
        Date exp = c.getExpirationTime();
        return iss.equals(c.getIssuer())
                && c.getAudience().contains("api://bench")
                && exp != null
                && exp.after(new Date());
    }
}
