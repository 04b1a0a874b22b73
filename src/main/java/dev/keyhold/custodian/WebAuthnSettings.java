package dev.keyhold.custodian;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Set;

/**
 * The WebAuthn relying party custodians' passkeys are bound to (docs/configuration.md, docs/console-passkeys.md). The
 * browser binds every credential to the relying-party id and writes the page's origin into each signature; Keyhold
 * accepts a registration or an assertion only for this id and from these origins.
 */
@ConfigMapping(prefix = "keyhold.webauthn")
public interface WebAuthnSettings {

    /**
     * The relying-party id: the console's host name or a registrable suffix of it ({@code keyhold.example.com} or
     * {@code example.com}). Credentials enrolled under one id do not work under another.
     */
    @WithDefault("localhost")
    String rpId();

    /**
     * The console's origins as the browser names them ({@code https://keyhold.example.com}, with the port when it is
     * not the scheme's default). An entry ending in {@code :*} allows any port of that scheme and host; the default
     * fits embedded mode (the console at {@code http://localhost:<port>}, whatever the port).
     */
    @WithDefault("http://localhost:*")
    Set<String> origins();
}
