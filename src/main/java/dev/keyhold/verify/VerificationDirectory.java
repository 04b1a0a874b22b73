package dev.keyhold.verify;

import dev.keyhold.domain.Key;
import dev.keyhold.issuer.Issuer;
import java.util.Optional;

/** Where the reference validator looks up issuers and keys: the small port between it and the database. */
public interface VerificationDirectory {

    /** The registered issuer whose {@code issuerUri} is exactly {@code uri}. */
    Optional<Issuer> issuerByUri(String uri);

    /** The key row with this kid, whatever its issuer or state: binding and usability are the engine's checks. */
    Optional<Key> key(String kid);
}
