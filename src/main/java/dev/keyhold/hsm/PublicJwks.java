package dev.keyhold.hsm;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import dev.keyhold.domain.SigningAlgorithm;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;

/** Public JWKs of HSM keys. The kid is the RFC 7638 thumbprint, so it is bound to the key material itself. */
public final class PublicJwks {

    private PublicJwks() {}

    public static JWK of(PublicKey publicKey, SigningAlgorithm alg) {
        try {
            JWK bare = switch (alg) {
                case ES256 -> new ECKey.Builder(Curve.P_256, (ECPublicKey) publicKey).build();
                case ES384 -> new ECKey.Builder(Curve.P_384, (ECPublicKey) publicKey).build();
                case RS256, PS256 -> new RSAKey.Builder((RSAPublicKey) publicKey).build();
            };
            String kid = bare.computeThumbprint().toString();
            JWSAlgorithm jwsAlg = JWSAlgorithm.parse(alg.name());
            return switch (alg) {
                case ES256, ES384 ->
                    new ECKey.Builder((ECKey) bare)
                            .keyID(kid)
                            .keyUse(KeyUse.SIGNATURE)
                            .algorithm(jwsAlg)
                            .build();
                case RS256, PS256 ->
                    new RSAKey.Builder((RSAKey) bare)
                            .keyID(kid)
                            .keyUse(KeyUse.SIGNATURE)
                            .algorithm(jwsAlg)
                            .build();
            };
        } catch (JOSEException | ClassCastException e) {
            throw new IllegalStateException("the HSM returned a " + publicKey.getAlgorithm() + " key for " + alg, e);
        }
    }
}
