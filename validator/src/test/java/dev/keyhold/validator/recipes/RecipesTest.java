package dev.keyhold.validator.recipes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.proc.BadJOSEException;
import dev.keyhold.validator.FakeKeyholdAccess;
import dev.keyhold.validator.KeyholdValidator;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.auth.principal.ParseException;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtException;

/**
 * Each recipe of docs/relying-party-recipes.md, run against the fake Keyhold: a good token passes, a token of the
 * same key is refused the moment its revocation arrives on the feed, and another issuer's key never vouches.
 */
class RecipesTest {

    FakeKeyholdAccess keyhold;
    KeyholdValidator v;
    ECKey a1;
    ECKey b1;

    @BeforeEach
    void start() throws Exception {
        keyhold = new FakeKeyholdAccess();
        a1 = keyhold.addKey("a", "ACTIVE");
        b1 = keyhold.addKey("b", "ACTIVE");
        v = KeyholdValidator.builder(keyhold.uri())
                .trust("a", Set.of("api://a"))
                .trust("b", Set.of("api://b"))
                .build();
    }

    @AfterEach
    void stop() {
        v.close();
        keyhold.close();
    }

    @Test
    void plainNimbus() throws Exception {
        var p = PlainNimbusRecipe.processor(v, "a", keyhold.issuerUri("a"), "api://a");
        assertEquals(
                "user-1", p.process(keyhold.token(a1, "a", "api://a"), null).getSubject());
        assertThrows(BadJOSEException.class, () -> p.process(keyhold.token(b1, "a", "api://a"), null));
        assertThrows(BadJOSEException.class, () -> p.process(keyhold.token(a1, "a", "api://b"), null));
        String token = keyhold.token(a1, "a", "api://a");
        keyhold.revoke("a", a1, v);
        assertThrows(BadJOSEException.class, () -> p.process(token, null));
    }

    @Test
    void springSecurity() throws Exception {
        JwtDecoder d = SpringSecurityRecipe.jwtDecoder(v, "a", keyhold.issuerUri("a"), "api://a");
        Jwt jwt = d.decode(keyhold.token(a1, "a", "api://a"));
        assertEquals("user-1", jwt.getSubject());
        assertThrows(JwtException.class, () -> d.decode(keyhold.token(b1, "a", "api://a")));
        assertThrows(JwtException.class, () -> d.decode(keyhold.token(a1, "a", "api://b")));
        String token = keyhold.token(a1, "a", "api://a");
        keyhold.revoke("a", a1, v);
        assertThrows(JwtException.class, () -> d.decode(token));
    }

    @Test
    void quarkusSmallryeJwt() throws Exception {
        var factory = new QuarkusSmallryeJwtRecipe(v);
        var info = new JWTAuthContextInfo();
        assertEquals(
                "user-1", factory.parse(keyhold.token(a1, "a", "api://a"), info).getSubject());
        assertThrows(ParseException.class, () -> factory.parse(keyhold.token(b1, "a", "api://a"), info));
        String token = keyhold.token(a1, "a", "api://a");
        keyhold.revoke("a", a1, v);
        ParseException e = assertThrows(ParseException.class, () -> factory.parse(token, info));
        assertEquals("token refused: key_not_usable", e.getMessage());
    }
}
