package dev.keyhold.http;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Request size limits answered with problem documents (error/RequestLimitFilter). */
@ConfigMapping(prefix = "keyhold.http")
public interface HttpLimits {

    /** Longest request URI (path and query), in characters: 414 beyond. */
    @WithDefault("8192")
    int maxUriLength();

    /** Largest total of request header names and values, in bytes: 431 beyond. */
    @WithDefault("20480")
    int maxHeaderSize();

    /**
     * Largest request body by Content-Length (error/BodyLimitFilter): 413 beyond. /v1/evidence/ has its own,
     * keyhold.evidence.max-body-size.
     */
    @WithDefault("64K")
    io.quarkus.runtime.configuration.MemorySize maxBodySize();
}
