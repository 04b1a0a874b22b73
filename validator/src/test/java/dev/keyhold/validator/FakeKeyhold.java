package dev.keyhold.validator;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake of Keyhold's public documents and event feed, on the JDK's HTTP server, for the library's unit tests: issuers
 * with ES256 keys signed locally, the JWKS and key status documents (ETag/304), {@code GET /v1/events} and an SSE
 * stream that can be cut, refused, and reset (as a server restored from a backup).
 */
final class FakeKeyhold implements AutoCloseable {

    final HttpServer server;
    final Map<String, Issuer> issuers = new ConcurrentHashMap<>();
    final List<String> events = new CopyOnWriteArrayList<>(); // CloudEvent JSON, index = id - 1
    final List<Stream> streams = new CopyOnWriteArrayList<>();
    final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    final List<String> lastEventIds = new CopyOnWriteArrayList<>();
    volatile boolean refuse;
    /** What {@code /issuers/{id}/trust-bundle} serves, as given by the test (signed fixtures). */
    final Map<String, String> trustBundles = new ConcurrentHashMap<>();

    volatile long idOffset;

    static final class Issuer {
        final String id;
        final String uri;
        volatile boolean suspended;
        final Map<String, ECKey> keys = new LinkedHashMap<>();
        final Map<String, com.nimbusds.jose.jwk.RSAKey> rsaKeys = new LinkedHashMap<>();
        final Map<String, String> states = new LinkedHashMap<>();
        final Map<String, Instant> until = new LinkedHashMap<>();

        Issuer(String id) {
            this.id = id;
            this.uri = "https://" + id + ".test.example";
        }
    }

    final class Stream {
        final HttpExchange ex;
        final OutputStream out;

        Stream(HttpExchange ex) {
            this.ex = ex;
            this.out = ex.getResponseBody();
        }

        synchronized void send(String s) {
            try {
                out.write(s.getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                streams.remove(this);
            }
        }

        void cut() {
            streams.remove(this);
            ex.close();
        }
    }

    FakeKeyhold() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-keyhold");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    int hits(String path) {
        return hits.getOrDefault(path, new AtomicInteger()).get();
    }

    Issuer issuer(String id) {
        return issuers.computeIfAbsent(id, Issuer::new);
    }

    /** A new ES256 key of the issuer, in the given state (published when PENDING, ACTIVE or RETIRED). */
    synchronized ECKey addKey(String issuerId, String state) throws Exception {
        ECKey k = new ECKeyGenerator(Curve.P_256)
                .algorithm(JWSAlgorithm.ES256)
                .keyUse(KeyUse.SIGNATURE)
                .generate();
        String kid = k.computeThumbprint().toString();
        ECKey withKid = new ECKey.Builder(k).keyID(kid).build();
        Issuer i = issuer(issuerId);
        i.keys.put(kid, withKid);
        i.states.put(kid, state);
        return withKid;
    }

    /** A new RS256 (2048-bit) key of the issuer. */
    synchronized com.nimbusds.jose.jwk.RSAKey addRsaKey(String issuerId, String state) throws Exception {
        com.nimbusds.jose.jwk.RSAKey k = new com.nimbusds.jose.jwk.gen.RSAKeyGenerator(2048)
                .algorithm(JWSAlgorithm.RS256)
                .keyUse(KeyUse.SIGNATURE)
                .generate();
        String kid = k.computeThumbprint().toString();
        com.nimbusds.jose.jwk.RSAKey withKid =
                new com.nimbusds.jose.jwk.RSAKey.Builder(k).keyID(kid).build();
        Issuer i = issuer(issuerId);
        i.rsaKeys.put(kid, withKid);
        i.states.put(kid, state);
        return withKid;
    }

    synchronized void setState(String issuerId, String kid, String state, Instant until) {
        issuer(issuerId).states.put(kid, state);
        if (until != null) {
            issuer(issuerId).until.put(kid, until);
        }
    }

    /** Appends an event and pushes it to every open stream. */
    synchronized long event(String type, String issuerId, String subject) {
        long id = idOffset + events.size() + 1;
        String json =
                "{\"specversion\":\"1.0\",\"id\":\"" + id + "\",\"source\":\"/issuers/" + issuerId + "\",\"type\":\""
                        + type + "\"" + (subject == null ? "" : ",\"subject\":\"" + subject + "\"")
                        + ",\"time\":\"" + Instant.now() + "\",\"keyholdissuer\":\"" + issuerId + "\",\"data\":{}}";
        events.add(json);
        for (Stream s : streams) {
            s.send("id: " + id + "\nevent: " + type + "\ndata: " + json + "\n\n");
        }
        return id;
    }

    /** Forgets the event history, as a server restored from an older backup: ids start again below the cursor. */
    synchronized void resetHistory() {
        events.clear();
        idOffset = 0;
    }

    void cutStreams() {
        for (Stream s : streams) {
            s.cut();
        }
    }

    static String sign(ECKey key, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(), claims);
        jwt.sign(new ECDSASigner(key));
        return jwt.serialize();
    }

    static JWTClaimsSet.Builder claims(Issuer i, String aud, Instant now) {
        return new JWTClaimsSet.Builder()
                .issuer(i.uri)
                .audience(aud)
                .subject("user-1")
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(600)));
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        if (refuse) {
            ex.close(); // as if the network were gone
            return;
        }
        try {
            if (path.equals("/v1/events/stream")) {
                String last = ex.getRequestHeaders().getFirst("Last-Event-ID");
                lastEventIds.add(String.valueOf(last));
                ex.getResponseHeaders().set("Content-Type", "text/event-stream");
                ex.sendResponseHeaders(200, 0);
                Stream s = new Stream(ex);
                synchronized (this) {
                    s.send("retry: 1000\n\n");
                    if (last != null) {
                        long after = Long.parseLong(last);
                        for (String e : events) {
                            long id = idOf(e);
                            if (id > after) {
                                s.send("id: " + id + "\ndata: " + e + "\n\n");
                            }
                        }
                    }
                    streams.add(s);
                }
                return;
            }
            if (path.equals("/v1/events")) {
                Map<String, String> q = query(ex.getRequestURI().getRawQuery());
                long after = Long.parseLong(q.getOrDefault("after", "0"));
                int limit = Integer.parseInt(q.getOrDefault("limit", "100"));
                List<String> out = new ArrayList<>();
                for (String e : events) {
                    if (idOf(e) > after && out.size() < limit) {
                        out.add(e);
                    }
                }
                respond(ex, 200, "[" + String.join(",", out) + "]", null);
                return;
            }
            String[] p = path.split("/");
            if (p.length == 4 && p[1].equals("issuers") && p[3].equals("trust-bundle")) {
                String bundle = trustBundles.get(p[2]);
                if (bundle == null) {
                    respond(ex, 404, "{}", null);
                    return;
                }
                respond(ex, 200, bundle, "\"" + Integer.toHexString(bundle.hashCode()) + "\"");
                return;
            }
            if (p.length == 5 && p[1].equals("issuers") && issuers.containsKey(p[2])) {
                Issuer i = issuers.get(p[2]);
                String body;
                synchronized (this) {
                    if (p[4].equals("jwks.json")) {
                        List<com.nimbusds.jose.jwk.JWK> pub = new ArrayList<>();
                        i.keys.forEach((kid, k) -> {
                            String st = i.states.getOrDefault(kid, "ACTIVE");
                            if (!st.equals("REVOKED") && !st.equals("DESTROYED")) {
                                pub.add(k.toPublicJWK());
                            }
                        });
                        i.rsaKeys.forEach((kid, k) -> pub.add(k.toPublicJWK()));
                        body = new JWKSet(pub).toString();
                    } else if (p[4].equals("keyhold-issuer.json")) {
                        StringBuilder b = new StringBuilder("{\"id\":\"" + i.id + "\",\"issuerUri\":\"" + i.uri
                                + "\",\"status\":\"" + (i.suspended ? "SUSPENDED" : "ACTIVE") + "\",\"keys\":[");
                        List<String> ks = new ArrayList<>();
                        i.states.forEach((kid, st) -> ks.add("{\"kid\":\"" + kid + "\",\"state\":\"" + st + "\""
                                + (i.until.containsKey(kid) ? ",\"publishedUntil\":\"" + i.until.get(kid) + "\"" : "")
                                + "}"));
                        body = b.append(String.join(",", ks)).append("]}").toString();
                    } else {
                        respond(ex, 404, "{}", null);
                        return;
                    }
                }
                String etag = "\"" + Integer.toHexString(body.hashCode()) + "\"";
                if (etag.equals(ex.getRequestHeaders().getFirst("If-None-Match"))) {
                    ex.getResponseHeaders().set("ETag", etag);
                    ex.getResponseHeaders().set("Cache-Control", "public, max-age=60");
                    ex.sendResponseHeaders(304, -1);
                    ex.close();
                    return;
                }
                respond(ex, 200, body, etag);
                return;
            }
            respond(ex, 404, "{}", null);
        } catch (RuntimeException e) {
            respond(ex, 500, "{}", null);
        }
    }

    private static long idOf(String eventJson) {
        int i = eventJson.indexOf("\"id\":\"") + 6;
        return Long.parseLong(eventJson.substring(i, eventJson.indexOf('"', i)));
    }

    private static Map<String, String> query(String q) {
        Map<String, String> m = new LinkedHashMap<>();
        if (q != null) {
            for (String kv : q.split("&")) {
                int e = kv.indexOf('=');
                m.put(kv.substring(0, e), kv.substring(e + 1));
            }
        }
        return m;
    }

    private static void respond(HttpExchange ex, int status, String body, String etag) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.getResponseHeaders().set("Cache-Control", "public, max-age=60");
        if (etag != null) {
            ex.getResponseHeaders().set("ETag", etag);
        }
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    @Override
    public void close() {
        cutStreams();
        server.stop(0);
    }
}
