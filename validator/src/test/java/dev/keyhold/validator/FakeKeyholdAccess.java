package dev.keyhold.validator;

import com.nimbusds.jose.jwk.ECKey;
import java.net.URI;
import java.time.Instant;

/** The fake Keyhold for tests in other packages (the recipes). */
public final class FakeKeyholdAccess implements AutoCloseable {

    private final FakeKeyhold fake;

    public FakeKeyholdAccess() throws java.io.IOException {
        fake = new FakeKeyhold();
    }

    public URI uri() {
        return fake.uri();
    }

    public ECKey addKey(String issuerId, String state) throws Exception {
        return fake.addKey(issuerId, state);
    }

    public String issuerUri(String issuerId) {
        return fake.issuer(issuerId).uri;
    }

    public String token(ECKey key, String issuerId, String aud) throws Exception {
        return FakeKeyhold.sign(
                key,
                FakeKeyhold.claims(fake.issuer(issuerId), aud, Instant.now()).build());
    }

    /** Revokes the key and waits until the validator has the event. */
    public void revoke(String issuerId, ECKey key, KeyholdValidator v) {
        fake.setState(issuerId, key.getKeyID(), "REVOKED", null);
        long id = fake.event("keyhold.key.revoked", issuerId, key.getKeyID());
        TestClock.await("revocation applied", () -> v.feedStatus().lastEventId() >= id);
    }

    @Override
    public void close() {
        fake.close();
    }
}
