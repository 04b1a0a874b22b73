package dev.keyhold.security;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.SecurityIdentityAugmentor;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonString;
import java.util.Set;
import org.eclipse.microprofile.jwt.JsonWebToken;

/**
 * Names a token's principal by the one configured claim ({@code keyhold.auth.principal-claim}, default
 * {@code sub}). smallrye-jwt alone would take {@code upn}, else {@code preferred_username}, else {@code sub}: the
 * first two are often editable by the user or reassigned, and a custodian list must not match whoever renamed
 * themselves "alice". A token without the claim is refused (401).
 */
@ApplicationScoped
public class PrincipalClaim implements SecurityIdentityAugmentor {

    @Inject
    AuthConfig config;

    @Inject
    BearerRefusals refusals;

    @Override
    public Uni<SecurityIdentity> augment(SecurityIdentity identity, AuthenticationRequestContext context) {
        if (identity.isAnonymous() || !(identity.getPrincipal() instanceof JsonWebToken jwt)) {
            return Uni.createFrom().item(identity);
        }
        String claim = config.principalClaim();
        String name = stringClaim(jwt, claim);
        if (name == null) {
            refusals.count(BearerRefusals.Reason.PRINCIPAL_CLAIM);
            MissingPrincipalClaim missing = new MissingPrincipalClaim(claim);
            return Uni.createFrom().failure(new AuthenticationFailedException(missing.getMessage(), missing));
        }
        return Uni.createFrom()
                .item(QuarkusSecurityIdentity.builder(identity)
                        .setPrincipal(new NamedToken(jwt, name))
                        .build());
    }

    static String stringClaim(JsonWebToken jwt, String claim) {
        Object v = jwt.getClaim(claim);
        String s = v instanceof String str ? str : v instanceof JsonString js ? js.getString() : null;
        return s == null || s.isBlank() ? null : s;
    }

    /** Refusal of a token that lacks the principal claim; its message names the claim, never the token. */
    public static final class MissingPrincipalClaim extends RuntimeException {
        MissingPrincipalClaim(String claim) {
            super("bearer token has no '" + claim + "' claim (keyhold.auth.principal-claim)", null, false, false);
        }
    }

    /** The token, named by the configured claim. */
    record NamedToken(JsonWebToken token, String name) implements JsonWebToken {
        @Override
        public String getName() {
            return name;
        }

        @Override
        public Set<String> getClaimNames() {
            return token.getClaimNames();
        }

        @Override
        public <T> T getClaim(String claimName) {
            return token.getClaim(claimName);
        }

        @Override
        public String toString() {
            return "NamedToken[" + name + "]";
        }
    }
}
