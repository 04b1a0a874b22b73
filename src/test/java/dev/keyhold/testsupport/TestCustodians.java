package dev.keyhold.testsupport;

import dev.keyhold.custodian.Credentials;
import dev.keyhold.custodian.EnrollRequest;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Enrolls the test custodians' SSH keys ({@link CustodianKeys}) when Keyhold starts, before any test creates an
 * issuer, through the real enrollment path (a challenge signed with namespace keyhold-enroll, sealed by the HSM), so
 * every issuer's policy version 1 lists their credentials and tests approve with real signatures.
 */
@ApplicationScoped
public class TestCustodians {

    private static final Logger LOG = Logger.getLogger(TestCustodians.class);
    public static final List<String> ALL = List.of("alice", "bob", "carol", "dave", "erin", "mallory");

    @Inject
    Credentials credentials;

    void onStart(@Observes StartupEvent e) {
        for (String p : ALL) {
            try {
                enroll(p);
            } catch (RuntimeException ex) {
                LOG.warnf("test custodian %s not enrolled: %s", p, ex.toString());
            }
        }
    }

    /** Enrolls the principal's test key unless it already is. */
    public void enroll(String principal) {
        String line = CustodianKeys.publicKeyLine(principal);
        String canonical = line.substring(0, line.lastIndexOf(' '));
        if (credentials.sealed(principal).stream().anyMatch(c -> c.publicKey().equals(canonical))) {
            return;
        }
        Credentials.Challenge c = credentials.challenge(principal);
        String sig = CustodianKeys.sign(
                principal, Credentials.ENROLL_NAMESPACE, c.challenge().getBytes(StandardCharsets.UTF_8));
        credentials.enroll(principal, new EnrollRequest("sshsig", line, sig, null, null, c.challenge()));
    }
}
