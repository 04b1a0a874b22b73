package dev.keyhold.audit;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.hsm.PublicJwks;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.security.PublicKey;
import java.text.ParseException;
import java.time.Clock;

/**
 * The audit key: ES256 in the HSM's audit partition, made on first use under a fixed handle. Its public JWK is kept
 * in {@code audit_key} so verification runs without the HSM; verification still compares it with the HSM when the
 * HSM answers (see {@link AuditVerifier}).
 */
@ApplicationScoped
public class AuditKeys {

    static final SigningAlgorithm ALG = SigningAlgorithm.ES256;

    @Inject
    HsmPort hsm;

    @Inject
    AuditStore store;

    @Inject
    Clock clock;

    @Inject
    AuditSettings settings;

    public record AuditKey(String kid, String partition, String handle, JWK jwk) {}

    /** The audit key, generating it in the HSM and storing its public half when it does not exist yet. */
    public AuditKey ensure() {
        String partition = settings.partition();
        String handle = settings.keyHandle();
        AuditKey stored = QuarkusTransaction.requiringNew().call(() -> find(partition, handle));
        if (stored != null) {
            return stored;
        }
        PublicKey pub = hsm.publicKeyOrGenerate(partition, handle, ALG);
        JWK jwk = PublicJwks.of(pub, ALG);
        QuarkusTransaction.requiringNew()
                .run(() -> store.insertAuditKey(
                        jwk.getKeyID(), partition, handle, ALG.name(), jwk.toJSONString(), clock.instant()));
        return QuarkusTransaction.requiringNew().call(() -> find(partition, handle));
    }

    private AuditKey find(String partition, String handle) {
        return store.auditKey(partition, handle)
                .map(k -> new AuditKey(k.kid(), partition, handle, parse(k.publicJwk())))
                .orElse(null);
    }

    static JWK parse(String json) {
        try {
            return JWK.parse(json);
        } catch (ParseException e) {
            throw new IllegalStateException("stored audit key is not a JWK", e);
        }
    }

    static PublicKey publicKey(JWK jwk) {
        try {
            return ((ECKey) jwk).toECPublicKey();
        } catch (JOSEException | ClassCastException e) {
            throw new IllegalStateException("stored audit key is not an EC key", e);
        }
    }
}
