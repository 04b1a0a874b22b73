import dev.keyhold.validator.KeyholdValidator;
import dev.keyhold.validator.Verdict;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Revocation propagation to relying-party validators (bench/revocation-propagation.sh runs it).
 *
 * <p>Builds {@code instances} independent {@link KeyholdValidator}s in this JVM, each with its own HTTP client
 * (so its own connection to {@code GET /v1/events/stream}), each trusting every issuer of the tokens file. Then:
 *
 * <ol>
 *   <li>Idle cost: the Keyhold process's CPU time (from /proc) and its PostgreSQL's counters
 *       ({@code pg_stat_database}: transactions, rows returned, buffer hits) over {@code idle-seconds} with no
 *       validator connected, and again with all of them connected and idle.</li>
 *   <li>Revocations: for each token (one per issuer, each signed by that issuer's ACTIVE key), {@code POST
 *       /v1/keys/{kid}/revoke} as admin; the latency of an instance is the time from sending the POST until that
 *       instance's {@code validate(token)} refuses the token ({@code key_not_usable}). The check is cheap until
 *       something happens: an instance's token is validated again only once its feed has handled a new event
 *       ({@code feedStatus().lastEventId()} moved), and then until it is refused. The instances are checked while
 *       the POST is in flight (the commit happens inside it). Also reported: the latency from the key's
 *       {@code revoked_at} (the revoking transaction's time, read from the server's own clock on this machine: a
 *       little before the commit) and from the POST's response.</li>
 * </ol>
 *
 * <p>Arguments: base-url instances tokens-file server-pid jdbc-url idle-seconds admin:password clock-ticks. Tokens
 * file: one "issuer kid token" line per issuer.
 *
 * <p>With tokens-file {@code --sse} it measures only the idle cost of plain subscribers (bench/sse-idle.sh):
 * {@code instances} connections to {@code GET /v1/events/stream}, each reading and dropping what arrives, idle
 * windows without and with them.
 */
public class RevocationPropagationBench {

    public static void main(String[] args) throws Exception {
        URI base = URI.create(args[0]);
        int instances = Integer.parseInt(args[1]);
        boolean sseOnly = args[2].equals("--sse");
        List<String[]> tokens = new ArrayList<>();
        for (String line : sseOnly ? List.<String>of() : Files.readAllLines(Path.of(args[2]))) {
            if (!line.isBlank()) {
                tokens.add(line.trim().split(" "));
            }
        }
        long serverPid = Long.parseLong(args[3]);
        String jdbc = args[4];
        int idleSeconds = Integer.parseInt(args[5]);
        String basic = "Basic " + Base64.getEncoder().encodeToString(args[6].getBytes(StandardCharsets.UTF_8));
        long hz = Long.parseLong(args.length > 7 ? args[7] : "100");

        try (Connection pg =
                DriverManager.getConnection(jdbc, "postgres", System.getenv().getOrDefault("PGPASSWORD", ""))) {
            idle("idle, no validator connected", serverPid, pg, idleSeconds, hz, 0);
            if (sseOnly) {
                subscribers(base, instances, serverPid, pg, idleSeconds, hz);
                return;
            }

            long t0 = System.nanoTime();
            List<KeyholdValidator> validators = new ArrayList<>();
            try {
                for (int i = 0; i < instances; i++) {
                    KeyholdValidator.Builder b = KeyholdValidator.builder(base);
                    for (String[] t : tokens) {
                        b.trust(t[0], Set.of("api://" + t[0]));
                    }
                    validators.add(b.build());
                }
                while (validators.stream().anyMatch(v -> !v.feedStatus().connected())) {
                    Thread.sleep(50);
                }
                System.out.printf(
                        "%d validators built and connected to the feed in %.1f s (%d issuers each)%n",
                        instances, (System.nanoTime() - t0) / 1e9, tokens.size());
                for (String[] t : tokens) {
                    for (KeyholdValidator v : validators) {
                        Verdict verdict = v.validate(t[2]);
                        if (!verdict.valid()) {
                            throw new IllegalStateException(
                                    "token of " + t[0] + " refused before its revocation: " + verdict);
                        }
                    }
                }
                Thread.sleep(STATS_SETTLE_MS); // let the start-up and PostgreSQL's lazy statistics settle first
                idle("idle, " + instances + " validators subscribed", serverPid, pg, idleSeconds, hz, instances);
                revocations(base, basic, tokens, validators, pg);
            } finally {
                validators.forEach(KeyholdValidator::close);
            }
        }
    }

    /** Longer than PostgreSQL's idle statistics flush (PGSTAT_IDLE_INTERVAL, 10 s). */
    private static final long STATS_SETTLE_MS = 12_000;

    /** Plain SSE subscribers: one HTTP/1.1 connection each, whose lines are read and dropped. */
    private static void subscribers(URI base, int n, long pid, Connection pg, int seconds, long hz) throws Exception {
        HttpClient http =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<java.util.concurrent.CompletableFuture<HttpResponse<Void>>> streams = new ArrayList<>();
        java.util.concurrent.atomic.AtomicLong lines = new java.util.concurrent.atomic.AtomicLong();
        // A stream's response future completes only when its body ends, which an open stream never does: a stream
        // counts as open once its body has started (headers received, onSubscribe called).
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(n);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            HttpRequest r = HttpRequest.newBuilder(base.resolve("/v1/events/stream"))
                    .header("Accept", "text/event-stream")
                    .GET()
                    .build();
            streams.add(http.sendAsync(
                    r, HttpResponse.BodyHandlers.fromLineSubscriber(new java.util.concurrent.Flow.Subscriber<String>() {
                        public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
                            s.request(Long.MAX_VALUE);
                            started.countDown();
                        }

                        public void onNext(String line) {
                            lines.incrementAndGet();
                        }

                        public void onError(Throwable t) {}

                        public void onComplete() {}
                    })));
        }
        started.await(600, TimeUnit.SECONDS);
        int open = (int) (n - started.getCount());
        long ended = streams.stream()
                .filter(java.util.concurrent.CompletableFuture::isDone)
                .count();
        if (ended > 0) {
            System.out.printf("%d streams already ended (refused or closed)%n", ended);
        }
        if (open < n) {
            System.out.printf("only %d of %d SSE streams answered within 600 s%n", open, n);
        }
        System.out.printf("%d SSE subscribers connected in %.1f s%n", open, (System.nanoTime() - t0) / 1e9);
        // Each stream's start read the outbox head (one transaction each). PostgreSQL's backends report their
        // transaction counts to pg_stat_database lazily (an idle backend within about 10 s), so a window opened at
        // once would count the connection phase's transactions as idle ones: wait past that first.
        Thread.sleep(STATS_SETTLE_MS);
        idle("idle, " + open + " SSE subscribers", pid, pg, seconds, hz, n);
        System.out.printf("lines received by all subscribers meanwhile: %d (heartbeats)%n", lines.get());
        streams.forEach(f -> f.cancel(true));
    }

    private static void idle(String label, long pid, Connection pg, int seconds, long hz, int subscribers)
            throws Exception {
        long c0 = cpuTicks(pid);
        Map<String, Long> s0 = pgStats(pg);
        Thread.sleep(seconds * 1000L);
        long c1 = cpuTicks(pid);
        Map<String, Long> s1 = pgStats(pg);
        StringBuilder out = new StringBuilder();
        s1.forEach((k, v) -> out.append(String.format(" %s %.1f/s", k, (v - s0.get(k)) / (double) seconds)));
        System.out.printf(
                "%s, %d s: Keyhold CPU %.1f %% of one core;%s%n",
                label, seconds, (c1 - c0) * 100.0 / hz / seconds, out);
    }

    private static long cpuTicks(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
    }

    /** This database's counters; the query itself adds one transaction per call. */
    private static Map<String, Long> pgStats(Connection pg) throws Exception {
        Map<String, Long> m = new LinkedHashMap<>();
        try (Statement s = pg.createStatement()) {
            s.execute("select pg_stat_clear_snapshot()");
            try (ResultSet r = s.executeQuery("select xact_commit + xact_rollback, tup_returned, tup_fetched,"
                    + " blks_hit + blks_read from pg_stat_database where datname = current_database()")) {
                r.next();
                m.put("transactions", r.getLong(1));
                m.put("rows_returned", r.getLong(2));
                m.put("rows_fetched", r.getLong(3));
                m.put("buffer_reads", r.getLong(4));
            }
        }
        return m;
    }

    private static void revocations(
            URI base, String basic, List<String[]> tokens, List<KeyholdValidator> validators, Connection pg)
            throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        int n = validators.size();
        List<Double> all = new ArrayList<>();
        List<Double> allFromResponse = new ArrayList<>();
        List<Double> allFromRevokedAt = new ArrayList<>();
        List<Double> allFromCommit = new ArrayList<>();
        List<Double> slowest = new ArrayList<>();
        List<Double> posts = new ArrayList<>();
        int round = 0;
        for (String[] t : tokens) {
            round++;
            String kid = t[1];
            String token = t[2];
            long[] seen = new long[n];
            for (int i = 0; i < n; i++) {
                seen[i] = validators.get(i).feedStatus().lastEventId();
            }
            HttpRequest revoke = HttpRequest.newBuilder(base.resolve("/v1/keys/" + kid + "/revoke"))
                    .header("Authorization", basic)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"reason\":\"bench " + round + "\"}"))
                    .build();
            long sentWall = System.currentTimeMillis();
            long sent = System.nanoTime();
            // The instances are checked while the POST is in flight: the commit happens inside it.
            var call = http.sendAsync(revoke, HttpResponse.BodyHandlers.ofString());
            long answered = -1;
            double[] lat = new double[n];
            long[] at = new long[n];
            Arrays.fill(lat, -1);
            int pending = n;
            long deadline = sent + TimeUnit.SECONDS.toNanos(60);
            while ((pending > 0 || answered < 0) && System.nanoTime() < deadline) {
                if (answered < 0 && call.isDone()) {
                    answered = System.nanoTime();
                    HttpResponse<String> r = call.get();
                    if (r.statusCode() != 200) {
                        throw new IllegalStateException("revoke " + kid + ": " + r.statusCode() + " " + r.body());
                    }
                    posts.add((answered - sent) / 1e6);
                }
                for (int i = 0; i < n; i++) {
                    if (lat[i] >= 0) {
                        continue;
                    }
                    KeyholdValidator v = validators.get(i);
                    if (v.feedStatus().lastEventId() == seen[i]) {
                        continue;
                    }
                    Verdict verdict = v.validate(token);
                    if (!verdict.valid()) {
                        long now = System.nanoTime();
                        if (!Verdict.KEY_NOT_USABLE.equals(verdict.reason())) {
                            throw new IllegalStateException("refused for another reason: " + verdict);
                        }
                        lat[i] = (now - sent) / 1e6;
                        at[i] = now;
                        all.add(lat[i]);
                        pending--;
                    }
                }
                LockSupport.parkNanos(200_000);
            }
            // revoked_at is the revoking transaction's time (the server's clock, this machine's): just before its
            // commit.
            double revokedAt;
            try (var ps = pg.prepareStatement(
                    "select extract(epoch from revoked_at) * 1000 from signing_key where kid = ?")) {
                ps.setString(1, kid);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    revokedAt = rs.getDouble(1);
                }
            }
            // The revoking transaction's commit time, when PostgreSQL records commit timestamps
            // (track_commit_timestamp, which bench/revocation-propagation.sh turns on before the restart): the row's
            // xmin is the transaction that wrote its current version, the revocation.
            double committedAt = Double.NaN;
            try (var ps = pg.prepareStatement(
                    "select extract(epoch from pg_xact_commit_timestamp(xmin)) * 1000 from signing_key where kid = ?")) {
                ps.setString(1, kid);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && rs.getObject(1) != null) {
                        committedAt = rs.getDouble(1);
                    }
                }
            } catch (java.sql.SQLException e) {
                // commit timestamps are off: no such figure (the connection autocommits, so nothing to roll back)
            }
            for (int i = 0; i < n; i++) {
                if (lat[i] >= 0) {
                    allFromResponse.add(Math.max(0, (at[i] - answered) / 1e6));
                    allFromRevokedAt.add(sentWall + lat[i] - revokedAt);
                    if (!Double.isNaN(committedAt)) {
                        allFromCommit.add(sentWall + lat[i] - committedAt);
                    }
                }
            }
            double max = Arrays.stream(lat).max().orElse(-1);
            slowest.add(max);
            System.out.printf(
                    "revocation %2d: POST %.1f ms; all %d instances refuse after %.1f ms (first %.1f ms)%s%n",
                    round,
                    posts.get(posts.size() - 1),
                    n - pending,
                    max,
                    Arrays.stream(lat).filter(x -> x >= 0).min().orElse(-1),
                    Double.isNaN(committedAt)
                            ? ""
                            : String.format(
                                    "; commit at +%.1f ms, epoch %.0f ms, kid %s",
                                    committedAt - sentWall, committedAt, kid));
            Thread.sleep(300);
        }
        System.out.printf(
                "%d revocations x %d instances: latency from the POST's send p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                tokens.size(), n, pct(all, 50), pct(all, 99), pct(all, 100));
        System.out.printf(
                "  from the key's revoked_at (the revoking transaction's time): p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                pct(allFromRevokedAt, 50), pct(allFromRevokedAt, 99), pct(allFromRevokedAt, 100));
        if (!allFromCommit.isEmpty()) {
            System.out.printf(
                    "  from the revoking transaction's commit (pg_xact_commit_timestamp): p50 %.1f ms, p99 %.1f ms,"
                            + " max %.1f ms (%d refusals)%n",
                    pct(allFromCommit, 50), pct(allFromCommit, 99), pct(allFromCommit, 100), allFromCommit.size());
        }
        System.out.printf(
                "  from the POST's response (0 when the instance refused before it): p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                pct(allFromResponse, 50), pct(allFromResponse, 99), pct(allFromResponse, 100));
        System.out.printf(
                "  per revocation, the slowest instance: p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                pct(slowest, 50), pct(slowest, 99), pct(slowest, 100));
        System.out.printf(
                "  the POST itself: p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                pct(posts, 50), pct(posts, 99), pct(posts, 100));
    }

    private static double pct(List<Double> values, int p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int i = (int) Math.ceil(p / 100.0 * v.length) - 1;
        return v[Math.max(0, Math.min(v.length - 1, i))];
    }
}
