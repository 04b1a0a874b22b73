package dev.keyhold.testsupport;

import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.HsmPort;
import jakarta.annotation.Priority;
import jakarta.decorator.Decorator;
import jakarta.decorator.Delegate;
import jakarta.inject.Inject;
import java.security.PublicKey;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A slow HSM for the tests that need one: while a test has {@link #hold} a gate, every key generation (in any
 * partition) announces itself and then takes as long as a network HSM generating an RSA 4096 key, at least
 * {@link Gate#minimum} and until the test releases the gate. With no gate held (every other test) it passes
 * straight through.
 */
@Decorator
@Priority(10)
public class HeldGenerations implements HsmPort {

    /** One test's hold on key generation. */
    public static final class Gate implements AutoCloseable {
        public final CountDownLatch started;
        private final CountDownLatch release = new CountDownLatch(1);
        private final long minimum;
        private final long maximum;

        private Gate(int expected, long minimumMillis, long maximumMillis) {
            this.started = new CountDownLatch(expected);
            this.minimum = minimumMillis;
            this.maximum = maximumMillis;
        }

        /** Lets every held generation (and every later one) finish. */
        public void release() {
            release.countDown();
        }

        @Override
        public void close() {
            release();
            gate = null;
        }
    }

    private static volatile Gate gate;

    /** Holds every generation from now on: each takes at least {@code minimumMillis}, and waits for release. */
    public static Gate hold(int expected, long minimumMillis, long maximumMillis) {
        Gate g = new Gate(expected, minimumMillis, maximumMillis);
        gate = g;
        return g;
    }

    @Inject
    @Delegate
    HsmPort delegate;

    @Override
    public PublicKey generate(String partition, String handle, SigningAlgorithm alg) {
        Gate g = gate;
        if (g != null) {
            long start = System.nanoTime();
            g.started.countDown();
            try {
                g.release.await(g.maximum, TimeUnit.MILLISECONDS);
                long left = g.minimum - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                if (left > 0) {
                    Thread.sleep(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return delegate.generate(partition, handle, alg);
    }

    @Override
    public byte[] sign(String partition, String handle, SigningAlgorithm alg, byte[] data) {
        return delegate.sign(partition, handle, alg, data);
    }

    @Override
    public PublicKey publicKey(String partition, String handle) {
        return delegate.publicKey(partition, handle);
    }

    @Override
    public PublicKey publicKeyOrGenerate(String partition, String handle, SigningAlgorithm alg) {
        return delegate.publicKeyOrGenerate(partition, handle, alg);
    }

    @Override
    public void destroy(String partition, String handle) {
        delegate.destroy(partition, handle);
    }

    @Override
    public List<String> list(String partition) {
        return delegate.list(partition);
    }

    @Override
    public Set<String> partitions() {
        return delegate.partitions();
    }

    @Override
    public void check(String partition) {
        delegate.check(partition);
    }

    @Override
    public List<LibraryStatus> libraries() {
        return delegate.libraries();
    }

    @Override
    public PublicKey signingPublicKey(String partition, String handle) {
        return delegate.signingPublicKey(partition, handle);
    }

    @Override
    public boolean destroyPrivate(String partition, String handle) {
        return delegate.destroyPrivate(partition, handle);
    }

    @Override
    public List<String> listPrivate(String partition) {
        return delegate.listPrivate(partition);
    }

    @Override
    public void putData(String partition, String label, byte[] value) {
        delegate.putData(partition, label, value);
    }

    @Override
    public java.util.Optional<byte[]> getData(String partition, String label) {
        return delegate.getData(partition, label);
    }
}
