package dev.keyhold.verify;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

/** {@code keyhold.verify.*}. */
@ConfigMapping(prefix = "keyhold.verify")
public interface VerifyConfig {

    /** When true, {@code POST /v1/verify} needs no credentials; otherwise any Keyhold role may call it. */
    @WithName("public")
    @WithDefault("false")
    boolean isPublic();
}
