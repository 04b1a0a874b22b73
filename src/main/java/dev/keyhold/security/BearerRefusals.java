package dev.keyhold.security;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.EnumMap;
import java.util.Map;
import org.jose4j.jwt.consumer.ErrorCodes;
import org.jose4j.jwt.consumer.InvalidJwtException;

/**
 * Counts refused bearer tokens, {@code keyhold_auth_bearer_refused_total{reason}}: {@code audience} (no
 * {@code aud}, or not Keyhold's), {@code principal-claim} (no {@code keyhold.auth.principal-claim}),
 * {@code invalid} (any other fault: signature, issuer, expiry, not a JWT). The token itself is never logged or
 * tagged. Counted where the refusal happens ({@link CountingJwtValidator}, {@link PrincipalClaim}); Basic
 * authentication failures are not counted here.
 */
@Startup // the counters exist (at 0) from the start, not from the first refusal
@ApplicationScoped
public class BearerRefusals {

    public enum Reason {
        AUDIENCE("audience"),
        PRINCIPAL_CLAIM("principal-claim"),
        INVALID("invalid");

        final String tag;

        Reason(String tag) {
            this.tag = tag;
        }
    }

    private final Map<Reason, Counter> counters = new EnumMap<>(Reason.class);

    @Inject
    public BearerRefusals(MeterRegistry registry) {
        for (Reason r : Reason.values()) {
            counters.put(
                    r,
                    Counter.builder("keyhold.auth.bearer.refused")
                            .description("Bearer tokens refused, by reason (the token is never recorded)")
                            .tag("reason", r.tag)
                            .register(registry));
        }
    }

    /** Counts one refusal of a bearer token. */
    public void count(Reason reason) {
        counters.get(reason).increment();
    }

    /** Counts a failure of smallrye-jwt's validation by its reason. */
    public void count(Throwable failure) {
        Reason reason = classify(failure);
        count(reason == null ? Reason.INVALID : reason);
    }

    /** The reason a bearer token was refused, or null when the failure was not about a bearer token. */
    static Reason classify(Throwable failure) {
        boolean jwt = false;
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof PrincipalClaim.MissingPrincipalClaim) {
                return Reason.PRINCIPAL_CLAIM;
            }
            if (t instanceof InvalidJwtException invalid) {
                if (invalid.hasErrorCode(ErrorCodes.AUDIENCE_MISSING)
                        || invalid.hasErrorCode(ErrorCodes.AUDIENCE_INVALID)) {
                    return Reason.AUDIENCE;
                }
                jwt = true;
            }
            if (t.getClass().getName().startsWith("io.smallrye.jwt.")) {
                jwt = true;
            }
        }
        return jwt ? Reason.INVALID : null;
    }
}
