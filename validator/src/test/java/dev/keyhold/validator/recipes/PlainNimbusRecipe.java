package dev.keyhold.validator.recipes;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.ConfigurableJWTProcessor;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.keyhold.validator.KeyholdValidator;
import java.util.Set;

/** Recipe (docs/relying-party-recipes.md): Nimbus's own JWTProcessor over the kit's live, issuer-bound key source. */
public final class PlainNimbusRecipe {

    private PlainNimbusRecipe() {}

    // --- recipe: plain Nimbus ---
    public static ConfigurableJWTProcessor<SecurityContext> processor(
            KeyholdValidator keyhold, String issuerId, String issuerUri, String audience) {
        var p = new DefaultJWTProcessor<SecurityContext>();
        // the issuer's algorithm only; the key source offers only this issuer's usable keys
        p.setJWSKeySelector(new JWSVerificationKeySelector<>(JWSAlgorithm.ES256, keyhold.jwkSource(issuerId)));
        p.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(
                audience, new JWTClaimsSet.Builder().issuer(issuerUri).build(), Set.of("iss", "aud", "exp")));
        return p;
    }
    // --- end ---
}
