package dev.keyhold.audit;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Settings of the audit trail's checkpoints ({@code keyhold.audit.partition} stays in KeyholdConfig). */
@ConfigMapping(prefix = "keyhold.audit")
public interface AuditSettings {

    /** How often the chain head is signed, when it moved since the last checkpoint. */
    @WithDefault("PT5M")
    Duration checkpointInterval();

    /** The audit key's handle (CKA_ID) in the audit partition; generated on first use. */
    @WithDefault("keyhold-audit-1")
    String keyHandle();

    /** Needed because this mapping shares the keyhold.audit prefix with KeyholdConfig.Audit. */
    @WithDefault("audit")
    String partition();
}
