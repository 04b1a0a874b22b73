package dev.keyhold.validator;

import java.io.IOException;

/**
 * Where a validator loads an issuer's trust material. The default reads Keyhold's public HTTP documents (the
 * issuer's JWKS and its key status document, both revalidated with {@code If-None-Match}); another source (for
 * instance one reading signed trust bundles) can be given to {@link KeyholdValidator.Builder#source(IssuerSource)}.
 * The event feed still decides when to reload, and revocations it announces are applied on top of any source.
 */
public interface IssuerSource {

    /**
     * The issuer's current snapshot. {@code previous} is the last one this source returned for the issuer (null at
     * first); returning it unchanged is how a source says "not modified".
     *
     * @throws IOException when the issuer cannot be loaded now (the validator keeps what it has and retries)
     */
    IssuerSnapshot load(String issuerId, IssuerSnapshot previous) throws IOException, InterruptedException;
}
