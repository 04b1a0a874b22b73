package dev.keyhold.embedded;

import dev.keyhold.config.KeyholdConfig;
import dev.keyhold.custodian.Credentials;
import dev.keyhold.custodian.EnrollRequest;
import dev.keyhold.custodian.ssh.SshSig;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Embedded mode's demo custodians (alice, bob, carol) get development SSH keys at the first start
 * ({@link DemoCustodianKeys}) and have them enrolled as their credentials through the real enrollment path: a fresh
 * challenge signed with namespace {@code keyhold-enroll}, checked and sealed by the HSM like any custodian's. So an
 * issuer created afterwards lists their keys in its policy, and a newcomer approves from a terminal at once
 * ({@code bin/keyhold-approve}, docs/approving-from-a-terminal.md). Runs at every start: it only does what is
 * missing (a key file, an enrollment), so a start interrupted half-way completes at the next.
 */
@ApplicationScoped
public class DemoCustodianEnrollment {

    private static final Logger LOG = Logger.getLogger(DemoCustodianEnrollment.class);

    @Inject
    KeyholdConfig config;

    @Inject
    Credentials credentials;

    void onStart(@Observes @Priority(jakarta.interceptor.Interceptor.Priority.APPLICATION + 100) StartupEvent e) {
        if (!config.embedded().active() || !config.embedded().demoCustodianKeys()) {
            return;
        }
        try {
            enroll(Path.of(config.dataDir()), demoCustodians());
        } catch (RuntimeException ex) {
            // The demo keys are a convenience: Keyhold serves without them, and custodians can enroll their own.
            LOG.warnf("demo custodian keys not enrolled: %s", ex.getMessage());
        }
    }

    /** The custodians among embedded mode's demo principals. */
    static List<String> demoCustodians() {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, String> p : EmbeddedMode.DEMO_PRINCIPALS.entrySet()) {
            if (p.getValue().equals("custodian")) {
                out.add(p.getKey());
            }
        }
        return out;
    }

    /**
     * Makes (or reads) each custodian's key under {@code dataDir} and enrolls it unless it already is.
     *
     * @return the custodians whose key was enrolled by this call
     */
    public List<String> enroll(Path dataDir, List<String> custodians) {
        List<String> enrolled = new ArrayList<>();
        for (String name : custodians) {
            DemoCustodianKeys.DemoKey key = DemoCustodianKeys.ensure(dataDir, name);
            String canonical = dev.keyhold.custodian.ssh.SshPublicKey.parse(key.publicKeyLine())
                    .canonical();
            if (credentials.sealed(name).stream().anyMatch(c -> c.publicKey().equals(canonical))) {
                continue;
            }
            Credentials.Challenge challenge = credentials.challenge(name);
            String signature = SshSig.sign(
                    key.pair(),
                    Credentials.ENROLL_NAMESPACE,
                    challenge.challenge().getBytes(StandardCharsets.UTF_8));
            credentials.enroll(
                    name,
                    new EnrollRequest("sshsig", key.publicKeyLine(), signature, null, null, challenge.challenge()));
            enrolled.add(name);
        }
        if (!enrolled.isEmpty()) {
            LOG.debugf(
                    "demo custodian keys enrolled for %s (files in %s)",
                    enrolled,
                    dataDir.resolve(DemoCustodianKeys.FOLDER).toAbsolutePath().normalize());
        }
        return enrolled;
    }
}
