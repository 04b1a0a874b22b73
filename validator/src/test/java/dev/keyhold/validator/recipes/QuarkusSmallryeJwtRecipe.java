package dev.keyhold.validator.recipes;

import dev.keyhold.validator.KeyholdValidator;
import dev.keyhold.validator.Verdict;
import io.smallrye.jwt.auth.principal.DefaultJWTCallerPrincipal;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.auth.principal.JWTCallerPrincipal;
import io.smallrye.jwt.auth.principal.JWTCallerPrincipalFactory;
import io.smallrye.jwt.auth.principal.ParseException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.jose4j.jwt.JwtClaims;

/**
 * Recipe (docs/relying-party-recipes.md): Quarkus with smallrye-jwt. smallrye-jwt verifies with jose4j and its own
 * JWKS cache, so the kit replaces its verification: this factory is what smallrye-jwt calls for every bearer token.
 * In a Quarkus application annotate it {@code @ApplicationScoped @Alternative @Priority(1)} and produce the
 * validator as a bean ({@code @Produces @Singleton}, closed with {@code @Disposes}); {@code @RolesAllowed} and
 * {@code JsonWebToken} then work as usual.
 */
public class QuarkusSmallryeJwtRecipe extends JWTCallerPrincipalFactory {

    private final KeyholdValidator keyhold;

    public QuarkusSmallryeJwtRecipe(KeyholdValidator keyhold) {
        this.keyhold = keyhold;
    }

    // --- recipe: Quarkus ---
    @Override
    public JWTCallerPrincipal parse(String token, JWTAuthContextInfo authContextInfo) throws ParseException {
        Verdict verdict = keyhold.validate(token); // issuer, kid binding, revocation, signature, audience, times
        if (!verdict.valid()) {
            throw new ParseException("token refused: " + verdict.reason());
        }
        try {
            String payload = new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]), StandardCharsets.UTF_8);
            JwtClaims claims = JwtClaims.parse(payload);
            return new DefaultJWTCallerPrincipal(token, "JWT", claims);
        } catch (Exception e) {
            throw new ParseException("unreadable claims", e);
        }
    }
    // --- end ---
}
