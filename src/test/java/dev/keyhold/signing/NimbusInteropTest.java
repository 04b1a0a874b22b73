package dev.keyhold.signing;

import static dev.keyhold.testsupport.Tokens.claims;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.MutableClock;
import dev.keyhold.testsupport.Tokens;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URL;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Keyhold's tokens checked by an independent JOSE implementation (Nimbus JOSE+JWT), configured the way a
 * relying party would be: one issuer's JWKS URL as a remote key source, the issuer's {@code iss}, its audience.
 */
@QuarkusTest
class NimbusInteropTest {

    @TestHTTPResource("/")
    URL base;

    @Inject
    Lifecycle lifecycle;

    @Inject
    MutableClock clock;

    @AfterEach
    void resetClock() {
        clock.reset();
    }

    /** A validator for one issuer, as its documentation would tell a relying party to build it. */
    private DefaultJWTProcessor<SecurityContext> validatorFor(String issuerId, String jwksOfIssuer, JWSAlgorithm alg)
            throws Exception {
        return validatorFor(issuerId, jwksOfIssuer, alg, "api://" + issuerId);
    }

    private DefaultJWTProcessor<SecurityContext> validatorFor(
            String issuerId, String jwksOfIssuer, JWSAlgorithm alg, String audience) throws Exception {
        JWKSource<SecurityContext> keys = JWKSourceBuilder.create(
                        new URL(base, "issuers/" + jwksOfIssuer + "/.well-known/jwks.json"))
                .retrying(false)
                .build();
        DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
        p.setJWSKeySelector(new JWSVerificationKeySelector<>(alg, keys));
        p.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(
                audience,
                new JWTClaimsSet.Builder()
                        .issuer("https://" + issuerId + ".test.example")
                        .build(),
                Set.of("iss", "aud", "exp", "iat", "sub")));
        return p;
    }

    @ParameterizedTest
    @ValueSource(strings = {"ES256", "ES384", "RS256", "PS256"})
    void nimbusAcceptsKeyholdTokens(String alg) throws Exception {
        Map<String, Object> body = Api.issuerBody(Api.uniqueId("interop-" + alg.toLowerCase()));
        body.put("algorithm", alg);
        String id = Api.createIssuer(body);
        String kid = lifecycle.activeKey(id);
        String token = Tokens.sign(id, claims(id));

        JWTClaimsSet claims = validatorFor(id, id, JWSAlgorithm.parse(alg)).process(token, null);
        assertThat(claims.getSubject()).isEqualTo("user-1");
        assertThat(claims.getIssuer()).isEqualTo("https://" + id + ".test.example");
        assertThat(com.nimbusds.jwt.SignedJWT.parse(token).getHeader().getKeyID())
                .isEqualTo(kid);
        // and a validator expecting another algorithm for this issuer refuses it
        JWSAlgorithm other = alg.startsWith("ES") ? JWSAlgorithm.RS256 : JWSAlgorithm.ES256;
        assertThatThrownBy(() -> validatorFor(id, id, other).process(token, null))
                .isInstanceOf(BadJOSEException.class);
    }

    @Test
    void aValidatorForIssuerBRejectsIssuerATokens() throws Exception {
        String a = Api.createIssuer("interop-a");
        String b = Api.createIssuer("interop-b");
        lifecycle.activeKey(a);
        lifecycle.activeKey(b);
        String tokenOfA = Tokens.sign(a, claims(a));
        String tokenOfB = Tokens.sign(b, claims(b));
        assertThat(validatorFor(b, b, JWSAlgorithm.ES256)
                        .process(tokenOfB, null)
                        .getIssuer())
                .endsWith(b + ".test.example");

        // B's JWKS does not hold A's kid: no key, no verification
        assertThatThrownBy(() -> validatorFor(b, b, JWSAlgorithm.ES256).process(tokenOfA, null))
                .isInstanceOfAny(BadJOSEException.class, JOSEException.class)
                .hasMessageContaining("key");
        // and a validator misconfigured with A's JWKS (and an audience A serves) still refuses A's token as a B token:
        // the iss differs
        assertThatThrownBy(() ->
                        validatorFor(b, a, JWSAlgorithm.ES256, "api://" + a).process(tokenOfA, null))
                .isInstanceOf(BadJOSEException.class)
                .hasMessageContaining("iss");
    }
}
