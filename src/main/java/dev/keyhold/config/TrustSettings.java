package dev.keyhold.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Trust bundles and the trust key (docs/trust-bundles.md). */
@ConfigMapping(prefix = "keyhold.trust")
public interface TrustSettings {

    /** The HSM partition of the trust key; issuers may not use it. */
    @WithDefault("trust")
    String partition();

    /** The trust key's handle (CKA_ID) in the trust partition; generated on first use. */
    @WithDefault("keyhold-trust-1")
    String keyHandle();

    /** exp - iat of every signature of a bundle. */
    @WithDefault("PT24H")
    Duration validity();

    /** A current bundle is signed again (same content, new iat/exp) when its exp is this close. */
    @WithDefault("PT6H")
    Duration resignBefore();

    /**
     * How often the signer looks for bundles left unsigned (an HSM outage, a crash after commit, another instance's
     * changes) and for bundles due to be re-signed; "off" disables the timer.
     */
    @WithDefault("PT5S")
    String signInterval();

    /** Bundles committed more recently than this are left to the committing thread, which signs them at once. */
    @WithDefault("PT2S")
    Duration signGrace();

    /**
     * The issuer whose custodians decide trust key rotations (M-of-N, that issuer's approvalsRequired; never the
     * requester). The trust key serves every issuer, so its custodians are named once, through one issuer; unset,
     * trust key rotation is refused.
     */
    java.util.Optional<String> governingIssuer();
}
