package dev.keyhold.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Keyhold's HTTP API as the command line uses it: JSON in and out, and every failure turned into one
 * {@link CliException} line with its exit code (3 unreachable, 4 authentication or authorization, 1 anything the
 * server refused, with the problem's title and detail).
 */
public final class Api {

    static final ObjectMapper JSON = new ObjectMapper();

    private final Settings settings;
    private final HttpClient http;

    Api(Settings settings) {
        this.settings = settings;
        this.http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    public String url() {
        return settings.url();
    }

    /** A response whose status the caller judges itself (e.g. health: 503 carries a body). */
    public record Raw(int status, byte[] body, String contentType) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    public JsonNode get(String path) {
        return json(send("GET", path, null, true));
    }

    public JsonNode post(String path, Object body) {
        return json(send("POST", path, body, true));
    }

    /** GET returning the exact bytes (e.g. a statement to sign). */
    public byte[] getBytes(String path) {
        return send("GET", path, null, true).body();
    }

    /** GET without judging the status; still fails with 3 when unreachable. */
    public Raw getRaw(String path, boolean authenticate) {
        return exchange("GET", path, null, authenticate);
    }

    public static String query(Map<String, String> params) {
        StringJoiner j = new StringJoiner("&", "?", "");
        j.setEmptyValue("");
        params.forEach((k, v) -> {
            if (v != null && !v.isBlank()) {
                j.add(k + "=" + URLEncoder.encode(v, StandardCharsets.UTF_8));
            }
        });
        return j.toString();
    }

    public static String seg(String pathSegment) {
        return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static ObjectNode object(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            if (kv[i + 1] != null) {
                m.put((String) kv[i], kv[i + 1]);
            }
        }
        return JSON.valueToTree(m);
    }

    private Raw send(String method, String path, Object body, boolean authenticate) {
        Raw r = exchange(method, path, body, authenticate);
        if (r.status() >= 200 && r.status() < 300) {
            return r;
        }
        throw failure(method, path, r);
    }

    private Raw exchange(String method, String path, Object body, boolean authenticate) {
        URI uri;
        try {
            uri = URI.create(settings.url() + path);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("invalid URL " + settings.url() + path + ": " + e.getMessage());
        }
        if (uri.getScheme() == null
                || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
            throw CliException.usage("the server URL must start with http:// or https:// (got " + settings.url() + ")");
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(120))
                .header("Accept", "application/json, application/problem+json");
        if (authenticate) {
            if (settings.token() != null) {
                b.header("Authorization", "Bearer " + settings.token());
            } else if (settings.user() != null) {
                String basic = settings.user() + ":" + (settings.password() == null ? "" : settings.password());
                b.header(
                        "Authorization",
                        "Basic " + Base64.getEncoder().encodeToString(basic.getBytes(StandardCharsets.UTF_8)));
            }
        }
        if (body != null) {
            try {
                b.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        try {
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Raw(
                    r.statusCode(),
                    r.body(),
                    r.headers().firstValue("Content-Type").orElse(""));
        } catch (HttpConnectTimeoutException e) {
            throw new CliException(
                    CliException.UNREACHABLE, "cannot reach Keyhold at " + settings.url() + ": connection timed out");
        } catch (HttpTimeoutException e) {
            throw new CliException(
                    CliException.UNREACHABLE, "Keyhold at " + settings.url() + " did not answer in time");
        } catch (ConnectException e) {
            throw new CliException(
                    CliException.UNREACHABLE,
                    "cannot reach Keyhold at " + settings.url() + ": "
                            + (e.getMessage() == null ? "connection refused" : e.getMessage()));
        } catch (UnresolvedAddressException e) {
            throw new CliException(
                    CliException.UNREACHABLE, "cannot reach Keyhold at " + settings.url() + ": unknown host");
        } catch (IOException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            throw new CliException(
                    CliException.UNREACHABLE,
                    "cannot reach Keyhold at " + settings.url() + ": "
                            + (c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(CliException.UNREACHABLE, "interrupted");
        }
    }

    /** One line from a problem (RFC 9457) or whatever the server said. */
    CliException failure(String method, String path, Raw r) {
        String said = describe(r);
        if (r.status() == 401) {
            String who = settings.token() != null
                    ? "the bearer token"
                    : settings.user() == null
                            ? "no credentials (set KEYHOLD_USER and KEYHOLD_PASSWORD, or --user)"
                            : "user " + settings.user();
            return new CliException(
                    CliException.AUTH, "authentication failed (401) with " + who + (said.isEmpty() ? "" : ": " + said));
        }
        if (r.status() == 403) {
            return new CliException(
                    CliException.AUTH,
                    "not allowed (403): "
                            + (said.isEmpty()
                                    ? (settings.user() == null ? "this" : settings.user()) + " may not " + method + " "
                                            + path
                                    : said));
        }
        return CliException.refused(r.status() + " " + (said.isEmpty() ? method + " " + path : said));
    }

    static String describe(Raw r) {
        JsonNode p;
        try {
            p = r.body().length == 0 ? null : JSON.readTree(r.body());
        } catch (IOException e) {
            p = null;
        }
        if (p == null || !p.isObject()) {
            String t = r.text().strip().replaceAll("\\s+", " ");
            return t.length() > 200 ? t.substring(0, 200) + "…" : t;
        }
        StringBuilder s = new StringBuilder(p.path("title").asText(""));
        String detail = p.path("detail").asText("");
        if (!detail.isEmpty() && !detail.equals(s.toString())) {
            s.append(s.length() == 0 ? "" : ": ").append(detail);
        }
        JsonNode errors = p.has("errors") ? p.get("errors") : p.path("violations");
        if (errors.isArray() && !errors.isEmpty()) {
            StringJoiner j = new StringJoiner("; ", " (", ")");
            for (JsonNode e : errors) {
                String field = e.has("field")
                        ? e.path("field").asText()
                        : e.path("name").asText("");
                String msg = e.has("message") ? e.path("message").asText() : e.toString();
                j.add(field.isEmpty() ? msg : field + ": " + msg);
            }
            s.append(j);
        }
        return s.toString().replaceAll("\\s+", " ").strip();
    }

    private static JsonNode json(Raw r) {
        if (r.body().length == 0) {
            return JSON.nullNode();
        }
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw CliException.refused("the server's answer is not JSON: " + e.getMessage());
        }
    }
}
