package dev.keyhold.custodian;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.util.Set;

/** The WebAuthn relying party custodians' passkeys are bound to. */
@ConfigMapping(prefix = "keyhold.custodians.webauthn")
public interface WebAuthnSettings {

    /** The relying party id (the console's host name). */
    @WithDefault("localhost")
    String rpId();

    /** The origins a browser may sign from (the console's). */
    @WithDefault("http://localhost:8080,https://localhost:8443")
    Set<String> origins();
}
