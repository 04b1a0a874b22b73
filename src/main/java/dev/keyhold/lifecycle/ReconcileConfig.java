package dev.keyhold.lifecycle;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** {@code keyhold.reconcile.*}: comparing HSM objects with key rows (SPEC invariant 6). */
@ConfigMapping(prefix = "keyhold.reconcile")
public interface ReconcileConfig {

    /** Time between reconciliations; one also runs at start. */
    @WithDefault("PT5M")
    Duration interval();

    /**
     * How long an HSM object without a key row is left alone before it is destroyed. It must exceed the longest
     * rotation (HSM generation to commit), or a rotation in flight could lose its new key.
     */
    @WithDefault("PT10M")
    Duration orphanGrace();

    /** False turns the timer and the start-up run off (tests call {@link HsmReconciler#reconcileOnce()}). */
    @WithDefault("true")
    boolean enabled();
}
