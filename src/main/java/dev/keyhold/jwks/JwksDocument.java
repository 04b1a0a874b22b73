package dev.keyhold.jwks;

import dev.keyhold.domain.Deadlines;
import dev.keyhold.domain.IssuerPolicy;
import dev.keyhold.domain.Key;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * One issuer's JWKS, rendered once. It keeps the keys that may be published with the instant each stops
 * being publishable, so it can be re-rendered without the database when a retired key's window closes.
 */
public final class JwksDocument {

    /** A publishable key: its JWK JSON and the instant it leaves the JWKS. */
    record Entry(String kid, String jwkJson, Instant until) {}

    private final String issuerId;
    private final List<Entry> entries;
    private final byte[] body;
    private final io.vertx.core.buffer.Buffer buffer;
    private final String etag;
    private final Instant validUntil;

    private JwksDocument(String issuerId, List<Entry> entries, Instant now) {
        this.issuerId = issuerId;
        List<Entry> live = entries.stream().filter(e -> now.isBefore(e.until())).toList();
        this.entries = live;
        StringBuilder sb = new StringBuilder("{\"keys\":[");
        for (int i = 0; i < live.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(live.get(i).jwkJson());
        }
        sb.append("]}");
        this.body = sb.toString().getBytes(StandardCharsets.UTF_8);
        this.buffer = io.vertx.core.buffer.Buffer.buffer(body);
        this.etag = "\"" + digest(body) + "\"";
        this.validUntil =
                live.stream().map(Entry::until).min(Instant::compareTo).orElse(Instant.MAX);
    }

    /** Builds from the issuer's keys (any states, newest first): only the publishable ones are kept. */
    static JwksDocument of(String issuerId, List<Key> keys, IssuerPolicy policy, Instant now) {
        List<Entry> entries = new ArrayList<>();
        for (Key k : keys) {
            if (!k.issuerId().equals(issuerId)) {
                // Issuer binding (SPEC invariant 1) is checked here too, not only in the query that loaded the keys.
                throw new IllegalStateException(
                        "key " + k.kid() + " of issuer " + k.issuerId() + " offered for " + issuerId);
            }
            Optional<Instant> until = Deadlines.publishedUntil(k, policy);
            until.ifPresent(u -> entries.add(new Entry(k.kid(), k.publicJwk(), u)));
        }
        return new JwksDocument(issuerId, entries, now);
    }

    /** The same document as seen at {@code now}: itself while fresh, else re-rendered without expired keys. */
    JwksDocument at(Instant now) {
        return now.isBefore(validUntil) ? this : new JwksDocument(issuerId, entries, now);
    }

    boolean freshAt(Instant now) {
        return now.isBefore(validUntil);
    }

    public byte[] body() {
        return body;
    }

    /** The body as a Vert.x buffer, made once; each response writes a slice of it. */
    io.vertx.core.buffer.Buffer buffer() {
        return buffer.slice();
    }

    public String etag() {
        return etag;
    }

    public List<String> kids() {
        return entries.stream().map(Entry::kid).toList();
    }

    private static String digest(byte[] bytes) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(bytes);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(d).substring(0, 27);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
