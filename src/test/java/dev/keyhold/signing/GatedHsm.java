package dev.keyhold.signing;

import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.HsmPort;
import dev.keyhold.hsm.SunPkcs11Hsm;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Inject;
import java.security.PublicKey;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The real HSM adapter with a gate before {@code sign}: a test closes it to make the HSM slow (every signature waits
 * until it is opened). Enabled only by the profiles that list it ({@code getEnabledAlternatives}).
 */
@Alternative
@ApplicationScoped
public class GatedHsm implements HsmPort {

    @Inject
    SunPkcs11Hsm real;

    private volatile CountDownLatch gate = new CountDownLatch(0);
    private final AtomicInteger waiting = new AtomicInteger();

    public void close() {
        gate = new CountDownLatch(1);
    }

    public void open() {
        gate.countDown();
    }

    /** Signatures held at the gate now. */
    public int waiting() {
        return waiting.get();
    }

    @Override
    public byte[] sign(String partition, String handle, SigningAlgorithm alg, byte[] data) {
        CountDownLatch g = gate;
        if (g.getCount() > 0) {
            waiting.incrementAndGet();
            try {
                if (!g.await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the test never opened the HSM gate");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } finally {
                waiting.decrementAndGet();
            }
        }
        return real.sign(partition, handle, alg, data);
    }

    @Override
    public PublicKey generate(String partition, String handle, SigningAlgorithm alg) {
        return real.generate(partition, handle, alg);
    }

    @Override
    public PublicKey publicKey(String partition, String handle) {
        return real.publicKey(partition, handle);
    }

    @Override
    public PublicKey publicKeyOrGenerate(String partition, String handle, SigningAlgorithm alg) {
        return real.publicKeyOrGenerate(partition, handle, alg);
    }

    @Override
    public void destroy(String partition, String handle) {
        real.destroy(partition, handle);
    }

    @Override
    public void putData(String partition, String label, byte[] value) {
        real.putData(partition, label, value);
    }

    @Override
    public Optional<byte[]> getData(String partition, String label) {
        return real.getData(partition, label);
    }

    @Override
    public List<String> list(String partition) {
        return real.list(partition);
    }

    @Override
    public Set<String> partitions() {
        return real.partitions();
    }

    @Override
    public void check(String partition) {
        real.check(partition);
    }

    @Override
    public List<LibraryStatus> libraries() {
        return real.libraries();
    }

    @Override
    public PublicKey signingPublicKey(String partition, String handle) {
        return real.signingPublicKey(partition, handle);
    }

    @Override
    public boolean destroyPrivate(String partition, String handle) {
        return real.destroyPrivate(partition, handle);
    }

    @Override
    public List<String> listPrivate(String partition) {
        return real.listPrivate(partition);
    }
}
