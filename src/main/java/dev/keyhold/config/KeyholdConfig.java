package dev.keyhold.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** Keyhold's own settings. Durations accept ISO-8601 ({@code PT5M}) or the short form ({@code 300S}). */
@ConfigMapping(prefix = "keyhold")
public interface KeyholdConfig {

    /** Where embedded mode keeps PostgreSQL and the SoftHSM2 tokens. */
    @WithDefault("data")
    String dataDir();

    /** This instance's name in audit records; defaults to the host name. */
    Optional<String> node();

    Embedded embedded();

    Jwks jwks();

    Policy policy();

    Audit audit();

    interface Embedded {
        /** Set by the embedded bootstrap; true only when Keyhold started its own database and tokens. */
        @WithDefault("false")
        boolean active();

        @WithDefault("default,audit,trust")
        String partitions();

        /**
         * Embedded mode makes development SSH keys for the demo custodians at its first start
         * ({@code <data-dir>/custodian-keys/<name>}) and enrolls them ({@code embedded/DemoCustodianEnrollment}).
         */
        @WithDefault("true")
        boolean demoCustodianKeys();
    }

    interface Jwks {
        /** {@code Cache-Control: max-age} of every JWKS; each issuer's publishLead must exceed it. */
        @WithDefault("PT5M")
        Duration maxAge();
    }

    interface Policy {
        /** The least M an issuer may require. Two is dual control; lower it only on test deployments. */
        @WithDefault("2")
        int minApprovals();
    }

    interface Audit {
        /** The HSM partition holding the audit checkpoint key; issuers may not use it. */
        @WithDefault("audit")
        String partition();
    }
}
