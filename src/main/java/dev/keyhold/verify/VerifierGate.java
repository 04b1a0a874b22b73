package dev.keyhold.verify;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;

/**
 * Whether {@code POST /v1/verify} may answer. Closed by the forged-token canaries when the reference validator gave
 * a wrong verdict on a token it must reject (a validator that accepts forgeries must not be asked), opened again by
 * the next passing run. While closed, {@code /v1/verify} answers 503; the JWKS and the event feed are unaffected.
 * Per instance: each instance runs its own canaries against its own engine.
 */
@ApplicationScoped
public class VerifierGate {

    private volatile String closedBecause;

    public void close(String reason) {
        closedBecause = reason;
    }

    public void open() {
        closedBecause = null;
    }

    public Optional<String> closedBecause() {
        return Optional.ofNullable(closedBecause);
    }
}
