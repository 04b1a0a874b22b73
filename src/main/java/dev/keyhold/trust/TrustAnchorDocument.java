package dev.keyhold.trust;

import dev.keyhold.events.EventsSettings;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code GET /v1/trust-anchor} rendered once: the CURRENT and NEXT trust keys as a JWK set, its bytes and a strong
 * ETag, served from memory like a static file. A change of the trust keys on this instance drops it when its
 * transaction ends; a change made by another instance is seen within {@code keyhold.events.poll-interval} (the
 * document is read again after that long, the same bound as the issuer caches' for other instances' changes).
 */
@ApplicationScoped
public class TrustAnchorDocument {

    /** The rendered document; {@code buffer()} gives each response its own view of the one copy of the bytes. */
    public record Rendered(Buffer bytes, int length, String etag, long loadedAtNanos, long generation) {
        Buffer buffer() {
            return bytes.slice();
        }
    }

    @Inject
    TrustKeys keys;

    @Inject
    EventsSettings events;

    @Inject
    TransactionSynchronizationRegistry transactions;

    private final AtomicLong generation = new AtomicLong();
    private volatile Rendered cached;

    /** The document if this instance holds a fresh one, else null. Never blocks. */
    Rendered cached() {
        Rendered r = cached;
        return r != null
                        && r.generation() == generation.get()
                        && System.nanoTime() - r.loadedAtNanos()
                                < events.pollInterval().toNanos()
                ? r
                : null;
    }

    /** Reads the trust keys and renders the document. Blocking (database). */
    Rendered load() {
        long g = generation.get();
        long at = System.nanoTime();
        Rendered r = render(keys.anchors(), at, g);
        if (generation.get() == g) {
            cached = r; // a load that raced with a change is used once but not kept
        }
        return r;
    }

    /**
     * The trust keys change in the current transaction: the document is dropped now and again when the transaction
     * ends (so a request between the two cannot keep what the transaction replaced).
     */
    public void changing() {
        invalidate();
        if (transactions.getTransactionStatus() == Status.STATUS_ACTIVE) {
            transactions.registerInterposedSynchronization(new Synchronization() {
                @Override
                public void beforeCompletion() {}

                @Override
                public void afterCompletion(int status) {
                    invalidate();
                }
            });
        }
    }

    private void invalidate() {
        generation.incrementAndGet();
        cached = null;
    }

    static Rendered render(List<TrustKeys.TrustKey> anchors, long at, long generation) {
        JsonArray a = new JsonArray();
        anchors.forEach(k -> a.add(new JsonObject(k.jwk().toJSONString()).put("status", k.state())));
        byte[] body = new JsonObject().put("keys", a).encode().getBytes(StandardCharsets.UTF_8);
        return new Rendered(Buffer.buffer(body), body.length, etag(body), at, generation);
    }

    private static String etag(byte[] body) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(body);
            return "\"" + Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(h, 16)) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
