package dev.keyhold.security;

import io.quarkus.elytron.security.runtime.ElytronPasswordIdentityProvider;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.UsernamePasswordAuthenticationRequest;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * An identity provider in Quarkus's chain, ahead of the Elytron realm's: a Basic credential the realm has verified
 * once is recognised again from memory instead of going through Elytron on every request. It is only a provider:
 * Quarkus's Basic mechanism and authentication filter run for every request as before; this answers the
 * {@link UsernamePasswordAuthenticationRequest} they build. The sign path is called once per token, so the realm's
 * cost would otherwise be paid per token.
 *
 * <p>Why it cannot accept a wrong password: an entry is only ever added after the realm accepted that exact
 * username and password, and it is found only by the HMAC-SHA256 of that exact pair (length-prefixed, so no
 * two pairs share an input) under a key drawn at random per process. Any other password is another key: a miss,
 * which goes to the realm like before and is cached only if the realm accepts it. Neither the password nor an
 * unkeyed hash of it is stored, and the cached identity carries no credential.
 *
 * <p>Invalidation: the realm is the embedded properties realm, fixed by configuration at start; users, passwords
 * and roles cannot change while the process runs, so nothing can make an entry stale. {@link #clear()} exists
 * for a realm that could. Bounded: at most {@link #MAX_ENTRIES} entries (only accepted credentials get in, so the
 * bound is reached only with that many distinct valid credentials); when full the map is emptied and refilled.
 */
@ApplicationScoped
public class VerifiedCredentials implements IdentityProvider<UsernamePasswordAuthenticationRequest> {

    static final int MAX_ENTRIES = 1024;

    private final ConcurrentHashMap<Key, SecurityIdentity> verified = new ConcurrentHashMap<>();
    private final SecretKeySpec macKey;
    private final ThreadLocal<Mac> macs;

    @Inject
    ElytronPasswordIdentityProvider realm;

    public VerifiedCredentials() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        macKey = new SecretKeySpec(k, "HmacSHA256");
        macs = ThreadLocal.withInitial(() -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(macKey);
                return mac;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 unavailable", e);
            }
        });
    }

    @Override
    public Class<UsernamePasswordAuthenticationRequest> getRequestType() {
        return UsernamePasswordAuthenticationRequest.class;
    }

    /** Before the realm's provider (default priority 1001): this one answers for it, asking it on a miss. */
    @Override
    public int priority() {
        return 2000;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(
            UsernamePasswordAuthenticationRequest request, AuthenticationRequestContext context) {
        Key key = key(request.getUsername(), request.getPassword().getPassword());
        SecurityIdentity known = verified.get(key);
        if (known != null) {
            return Uni.createFrom().item(known);
        }
        return realm.authenticate(request, context).onItem().ifNotNull().transform(identity -> {
            SecurityIdentity stored = withoutCredentials(identity);
            if (verified.size() >= MAX_ENTRIES) {
                verified.clear();
            }
            verified.put(key, stored);
            return stored;
        });
    }

    /** Forgets every verified credential. */
    public void clear() {
        verified.clear();
    }

    boolean knows(String username, char[] password) {
        return verified.containsKey(key(username, password));
    }

    int size() {
        return verified.size();
    }

    private static SecurityIdentity withoutCredentials(SecurityIdentity identity) {
        return QuarkusSecurityIdentity.builder()
                .setPrincipal(identity.getPrincipal())
                .addRoles(identity.getRoles())
                .addAttributes(identity.getAttributes())
                .setAnonymous(identity.isAnonymous())
                .build();
    }

    Key key(String username, char[] password) {
        byte[] user = username.getBytes(StandardCharsets.UTF_8);
        ByteBuffer pass = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
        Mac mac = macs.get();
        mac.update(ByteBuffer.allocate(4).putInt(user.length).array());
        mac.update(user);
        mac.update(pass);
        byte[] tag = mac.doFinal();
        if (pass.hasArray()) {
            Arrays.fill(pass.array(), (byte) 0);
        }
        return new Key(tag);
    }

    /** An HMAC tag as a map key (array equality, not identity). */
    record Key(byte[] tag) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(tag, k.tag);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(tag);
        }

        @Override
        public String toString() {
            return "Key[hmac]";
        }
    }
}
