package dev.keyhold.security;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Which claims of a bearer token (and of the console's OpenID Connect login) name the principal and carry its
 * roles. Both are read by name elsewhere ({@code smallrye.jwt.path.groups}, the console's OIDC settings): keep
 * the names.
 */
@ConfigMapping(prefix = "keyhold.auth")
public interface AuthConfig {

    /**
     * The claim whose value is the principal name matched against issuers' custodian and signer lists. A token
     * without it is refused. Use an identifier the user cannot change ({@code sub}, Entra ID's {@code oid}).
     */
    @WithDefault("sub")
    String principalClaim();

    /** The claim holding the roles (a JSON array of strings; a path such as {@code realm_access/roles}). */
    @WithDefault("groups")
    String rolesClaim();
}
