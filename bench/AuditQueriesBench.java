import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;

/**
 * Audit query benchmark, run by bench/audit-queries.sh against a throwaway embedded Keyhold:
 * bulk-inserts synthetic audit records with generate_series until the table holds ROWS, then times the auditor
 * queries end to end over HTTP and prints p50/p95/p99, and the plans PostgreSQL uses.
 *
 * Usage: java -cp postgresql.jar bench/AuditQueriesBench.java <jdbc-url> <http-base> <real-kid> [rows] [requests]
 */
public class AuditQueriesBench {

    static final String[] ACTIONS = {
        "issuer.created",
        "key.created",
        "activation.requested",
        "activation.approved",
        "key.activated",
        "key.retired",
        "key.unpublished",
        "key.destroyed"
    };

    public static void main(String[] a) throws Exception {
        String jdbc = a[0];
        String base = a[1];
        String realKid = a[2];
        long rows = a.length > 3 ? Long.parseLong(a[3]) : 1_000_000;
        int n = a.length > 4 ? Integer.parseInt(a[4]) : 300;
        try (Connection c =
                DriverManager.getConnection(jdbc, "postgres", System.getenv().getOrDefault("PGPASSWORD", ""))) {
            fill(c, rows);
            explain(c);
        }
        HttpClient http = HttpClient.newHttpClient();
        String auth =
                "Basic " + Base64.getEncoder().encodeToString("auditor:keyhold-dev".getBytes(StandardCharsets.UTF_8));
        Random r = new Random(42);
        time(
                http,
                auth,
                "key history, synthetic kids (8 records each)",
                n,
                i -> base + "/v1/keys/" + kid(r.nextInt((int) (rows / 8))) + "/history");
        time(http, auth, "key history, a real key", n, i -> base + "/v1/keys/" + realKid + "/history");
        time(
                http,
                auth,
                "issuer + action, limit 100",
                n,
                i -> base + "/v1/audit?issuer=bench-" + r.nextInt(1000) + "&action=" + ACTIONS[r.nextInt(8)]
                        + "&limit=100");
        time(
                http,
                auth,
                "issuer, after=<middle>, limit 100 (deep page)",
                n,
                i -> base + "/v1/audit?issuer=bench-" + r.nextInt(1000) + "&after=" + (rows / 2) + "&limit=100");
        time(http, auth, "actor + 1 day window, limit 100", n, i -> {
            long day = r.nextInt(10);
            return base + "/v1/audit?actor=actor-" + r.nextInt(20) + "&from=" + ago(day + 1) + "&to=" + ago(day)
                    + "&limit=100";
        });
        time(http, auth, "1 hour window only, limit 100", n, i -> {
            long h = r.nextInt(200);
            return base + "/v1/audit?from=" + agoHours(h + 1) + "&to=" + agoHours(h) + "&limit=100";
        });
        time(
                http,
                auth,
                "no filter, after=<random>, limit 100",
                n,
                i -> base + "/v1/audit?after=" + r.nextInt((int) rows) + "&limit=100");
        time(
                http,
                auth,
                "no filter, after=<random>, limit 1000 (max page)",
                n,
                i -> base + "/v1/audit?after=" + r.nextInt((int) rows) + "&limit=1000");
    }

    static String kid(long k) {
        // 43 characters like a real thumbprint, distinct per k
        return String.format("bench%038d", k);
    }

    static String ago(long days) {
        return java.time.Instant.now()
                .minus(java.time.Duration.ofDays(days))
                .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                .toString();
    }

    static String agoHours(long hours) {
        return java.time.Instant.now()
                .minus(java.time.Duration.ofHours(hours))
                .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                .toString();
    }

    static void fill(Connection c, long rows) throws Exception {
        try (Statement s = c.createStatement()) {
            long have;
            try (ResultSet rs = s.executeQuery("select coalesce(max(seq), 0) from audit_record")) {
                rs.next();
                have = rs.getLong(1);
            }
            if (have >= rows) {
                System.out.println("audit_record already holds " + have + " rows");
                return;
            }
            long t0 = System.nanoTime();
            // Synthetic rows continue the seq (contiguous), but their hashes are not a valid chain: this database is
            // thrown away, and verification is not what is measured. 1000 issuers, 20 actors, 8 actions, keys with
            // 8 records each, one record per ~0.9 s over the last ~10 days.
            s.execute("insert into audit_record (seq, recorded_at, node, actor, action, outcome, issuer_id, kid,"
                    + " request_id, details, prev_hash, hash) select g, now() - ((" + rows
                    + " - g) * interval '864 ms'),"
                    + " 'bench-node', 'actor-' || (g % 20), (array['" + String.join("','", ACTIONS) + "'])[1 + g % 8],"
                    + " 'success', 'bench-' || (g % 1000), 'bench' || lpad(((g / 8) % " + (rows / 8)
                    + ")::text, 38, '0'),"
                    + " md5(g::text), '{\"n\":' || g || '}', md5((g - 1)::text) || md5((g - 1)::text),"
                    + " md5(g::text) || md5(g::text) from generate_series(" + (have + 1) + ", " + rows + ") g");
            s.execute("analyze audit_record");
            System.out.printf(
                    "inserted %d synthetic audit records in %.1f s%n", rows - have, (System.nanoTime() - t0) / 1e9);
        }
    }

    static void explain(Connection c) throws Exception {
        String[] queries = {
            "select * from audit_record where kid = 'bench" + "0".repeat(33) + "12345' order by seq",
            "select * from audit_record where seq > 0 and issuer_id = 'bench-7' and action = 'key.created' order by seq limit 101",
            "select * from audit_record where seq > 500000 and issuer_id = 'bench-7' order by seq limit 101",
            // what AuditQueryService runs for actor + window: two probes turn the window into a seq range
            "select seq from audit_record where recorded_at >= now() - interval '2 days' order by recorded_at, seq limit 1",
            "select seq from audit_record where recorded_at < now() - interval '1 day' order by recorded_at desc, seq desc limit 1",
            "select * from audit_record where seq > (select seq from audit_record where recorded_at >= now() - interval '2 days'"
                    + " order by recorded_at, seq limit 1) - 1 and seq <= (select seq from audit_record where recorded_at <"
                    + " now() - interval '1 day' order by recorded_at desc, seq desc limit 1) and actor = 'actor-3'"
                    + " order by seq limit 101",
        };
        try (Statement s = c.createStatement()) {
            for (String q : queries) {
                System.out.println("\nEXPLAIN ANALYZE " + q);
                try (ResultSet rs = s.executeQuery("explain (analyze, buffers, costs off) " + q)) {
                    while (rs.next()) {
                        System.out.println("  " + rs.getString(1));
                    }
                }
            }
        }
    }

    static void time(HttpClient http, String auth, String name, int n, IntFunction<String> url) throws Exception {
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < n + 30; i++) {
            HttpRequest req = HttpRequest.newBuilder(URI.create(url.apply(i)))
                    .header("Authorization", auth)
                    .build();
            long t0 = System.nanoTime();
            HttpResponse<String> res = http.send(req, HttpResponse.BodyHandlers.ofString());
            long t1 = System.nanoTime();
            if (res.statusCode() != 200 && !(res.statusCode() == 404 && name.contains("synthetic"))) {
                throw new IllegalStateException(name + ": HTTP " + res.statusCode() + " " + res.body());
            }
            if (i >= 30) { // warm-up excluded
                ms.add((t1 - t0) / 1e6);
            }
        }
        Collections.sort(ms);
        System.out.printf(
                "%-48s n=%d  p50 %6.2f ms  p95 %6.2f ms  p99 %6.2f ms  max %6.2f ms%n",
                name, n, pct(ms, 50), pct(ms, 95), pct(ms, 99), ms.get(ms.size() - 1));
    }

    static double pct(List<Double> sorted, int p) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }
}
