package dev.keyhold.validator.recipes;

import dev.keyhold.validator.KeyholdValidator;
import java.util.List;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwtClaimNames;
import org.springframework.security.oauth2.jwt.JwtClaimValidator;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtValidators;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;

/**
 * Recipe (docs/relying-party-recipes.md): a Spring Security resource server's {@link JwtDecoder} over the kit's key
 * source. In a Spring Boot application the method is a {@code @Bean}, and the validator a bean closed on shutdown.
 */
public final class SpringSecurityRecipe {

    private SpringSecurityRecipe() {}

    // --- recipe: Spring Security ---
    public static JwtDecoder jwtDecoder(KeyholdValidator keyhold, String issuerId, String issuerUri, String audience) {
        NimbusJwtDecoder decoder = NimbusJwtDecoder.withJwkSource(keyhold.jwkSource(issuerId))
                .jwsAlgorithm(SignatureAlgorithm.ES256)
                .build();
        decoder.setJwtValidator(new DelegatingOAuth2TokenValidator<>(
                JwtValidators.createDefaultWithIssuer(issuerUri),
                new JwtClaimValidator<List<String>>(JwtClaimNames.AUD, aud -> aud != null && aud.contains(audience))));
        return decoder;
    }
    // --- end ---
}
