package dev.keyhold.audit;

import java.util.Optional;

/**
 * Which issuer a key belongs to, for audit records of refused requests that name only a kid. A port: the key rows
 * belong to the issuer aggregate's store, which implements it; {@code audit} sits below that store in the layers.
 */
public interface KeyIssuers {

    /** The issuer of the key, empty for an unknown kid. Joins the caller's transaction. */
    Optional<String> issuerOfKey(String kid);
}
