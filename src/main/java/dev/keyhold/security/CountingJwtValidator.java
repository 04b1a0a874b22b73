package dev.keyhold.security;

import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.TokenAuthenticationRequest;
import io.quarkus.smallrye.jwt.runtime.auth.JsonWebTokenCredential;
import io.quarkus.smallrye.jwt.runtime.auth.MpJwtValidator;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * smallrye-jwt's validation of bearer tokens (signature, issuer, expiry, {@code mp.jwt.verify.audiences}), with
 * each refusal counted in {@link BearerRefusals}. Answers ahead of {@link MpJwtValidator} (which it calls) and
 * only for smallrye-jwt's own bearer credentials; other token requests go on to their providers.
 */
@ApplicationScoped
public class CountingJwtValidator implements IdentityProvider<TokenAuthenticationRequest> {

    @Inject
    MpJwtValidator validator;

    @Inject
    BearerRefusals refusals;

    @Override
    public Class<TokenAuthenticationRequest> getRequestType() {
        return TokenAuthenticationRequest.class;
    }

    @Override
    public int priority() {
        return 2000;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(
            TokenAuthenticationRequest request, AuthenticationRequestContext context) {
        if (!(request.getToken() instanceof JsonWebTokenCredential)) {
            return Uni.createFrom().nullItem();
        }
        return validator.authenticate(request, context).onFailure().invoke(refusals::count);
    }
}
