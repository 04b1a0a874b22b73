package dev.keyhold.error;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/** An RFC 9457 problem body. Never carries a stack trace, a class name, key material or a PIN. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(
        String type,
        String title,
        int status,
        String detail,
        String instance,
        @com.fasterxml.jackson.annotation.JsonIgnore Map<String, Object> extensions) {

    public static final String MEDIA_TYPE = "application/problem+json";
    /** Sent with every 503: the HSM or database is expected back; a client should not retry in a tight loop. */
    public static final String RETRY_AFTER_SECONDS = "5";

    public static String typeUri(String slug) {
        return "urn:keyhold:problem:" + slug;
    }

    @JsonAnyGetter
    public Map<String, Object> any() {
        return extensions == null ? Map.of() : extensions;
    }
}
