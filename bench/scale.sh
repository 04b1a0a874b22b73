#!/usr/bin/env bash
# Scale to 100,000 issuers (docs/benchmarks.md, "100,000 issuers"). Goals: one sweep < 1 s, start-up to ready < 30 s,
# JWKS p99 < 10 ms for a cold issuer; heap per issuer reported.
#
# 1. The packaged jar in embedded mode (bench/sign-setup.sh) with one issuer made through the API, `tmpl`, whose key
#    alice and bob approve with signed statements; its JWKS fetched; the heap used after a full GC (jcmd) is the
#    baseline.
# 2. [issuers] issuers added with bulk SQL, each a copy of tmpl's issuer row (own id and issuerUri) with one ACTIVE key
#    row (own kid, handle and public JWK member `kid`, tmpl's key material). Rows only: the HSM holds tmpl's key alone
#    (100,000 keys generated in SoftHSM2 would take days through the JDK's KeyStore, docs/benchmarks.md "Scheduler
#    sweeps"), so the HSM reconciler, which would report every copied key as missing from the HSM, is switched off
#    for the run (KEYHOLD_RECONCILE_ENABLED=false); so is the canary, as in every bench. Nothing else is changed.
# 3. Keyhold restarted on that database: the time from launching the JVM until /q/health/ready answers 200.
# 4. Sweeps: the scheduler sweeps every 2 s for [sweep-seconds]; keyhold_scheduler_sweep_seconds (count, sum, max)
#    from /q/metrics gives the mean and the longest sweep in that window (every issuer checked for due work).
# 5. Cold JWKS: wrk with one connection, then -t2 -c[connections], [jwks-seconds] each, every request for an issuer not
#    asked for before since the restart (the runs and wrk's threads walk disjoint ids), after a warm-up of that code path
#    on other issuers; p50/p99/max. Then the heap after a full GC again:
#    (used - baseline) / issuers is the heap per issuer, with every issuer loaded and each requested one's JWKS held.
#
# Usage: bench/scale.sh [issuers=100000] [connections=16] [jwks-seconds=10] [sweep-seconds=30]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
CONNS=${2:-16}
JWKS_SECONDS=${3:-10}
SWEEP_SECONDS=${4:-30}
export KEYHOLD_RECONCILE_ENABLED=false KEYHOLD_SCHEDULER_INTERVAL=2S
. bench/sign-setup.sh
machine

heap_used_mb() { # pid: heap used after a full GC, MiB
  jcmd "$1" GC.run >/dev/null
  sleep 1
  jcmd "$1" GC.heap_info | awk '/used/ { for (i = 1; i <= NF; i++) if ($i == "used") { v = $(i + 1); sub(/K,?$/, "", v); print v / 1024; exit } }'
}
metric() { # name: its value from /q/metrics (the sample line without labels)
  local code
  code=$(curl -s -o "$WORK/metrics.txt" -w '%{http_code}' "$BASE/q/metrics")
  [ "$code" = 200 ] || { echo "/q/metrics answered $code; log:" >&2; grep -m3 -A3 ERROR "$WORK/data.log" >&2; exit 1; }
  awk -v m="$1" '$1 == m { print $2; exit }' "$WORK/metrics.txt"
}

create_issuer tmpl ES256
activate tmpl
curl -fs -o /dev/null "$BASE/issuers/tmpl/.well-known/jwks.json"
BASE_HEAP=$(heap_used_mb "$KPID")
echo "baseline: 1 issuer, heap used after full GC $BASE_HEAP MiB"

T0=$(date +%s)
ICOLS=$(sql "select string_agg(column_name, ', ' order by ordinal_position) from information_schema.columns
             where table_schema = 'public' and table_name = 'issuer' and column_name not in ('id', 'issuer_uri')")
KCOLS=$(sql "select string_agg(column_name, ', ' order by ordinal_position) from information_schema.columns
             where table_schema = 'public' and table_name = 'signing_key'
               and column_name not in ('kid', 'issuer_id', 'hsm_handle', 'public_jwk')")
JWK_TYPE=$(sql "select data_type from information_schema.columns where table_name = 'signing_key' and column_name = 'public_jwk'")
KID=$(sql "select kid from signing_key where issuer_id = 'tmpl' and state = 'ACTIVE'")
sql "insert into issuer (id, issuer_uri, $ICOLS)
       select 'scale-' || g, 'https://scale-' || g || '.example', $ICOLS from issuer, generate_series(1, $N) g
       where id = 'tmpl';
     insert into signing_key (kid, issuer_id, hsm_handle, public_jwk, $KCOLS)
       select 'scale-' || g || '-k1', 'scale-' || g, hsm_handle || '-scale-' || g,
              replace(public_jwk::text, '$KID', 'scale-' || g || '-k1')::$JWK_TYPE, $KCOLS
       from signing_key, generate_series(1, $N) g where kid = '$KID';
     analyze"
echo "inserted $N issuers and $N keys in $(( $(date +%s) - T0 )) s: $(sql "select count(*) from issuer") issuers," \
  "$(sql "select count(*) from signing_key where state = 'ACTIVE'") ACTIVE keys;" \
  "database $(sql "select pg_size_pretty(pg_database_size(current_database()))")"

stop_keyhold "$KPID" "$WORK/data"
sleep 1
start_keyhold "$APP" "$PORT" "$WORK/data"
KPID=$STARTED_PID
echo "start-up with $((N + 1)) issuers: ${STARTED_SECONDS} s from launch to ready (goal < 30 s)"
machine

C0=$(metric keyhold_scheduler_sweep_seconds_count)
S0=$(metric keyhold_scheduler_sweep_seconds_sum)
sleep "$SWEEP_SECONDS"
C1=$(metric keyhold_scheduler_sweep_seconds_count)
S1=$(metric keyhold_scheduler_sweep_seconds_sum)
MAX=$(metric keyhold_scheduler_sweep_seconds_max)
awk -v c0="${C0:-0}" -v c1="$C1" -v s0="${S0:-0}" -v s1="$S1" -v m="$MAX" -v n="$((N + 1))" 'BEGIN {
  printf "sweeps over %d issuers: %d in the window, mean %.0f ms, longest (keyhold_scheduler_sweep_seconds_max) %.0f ms (goal < 1 s)\n",
    n, c1 - c0, (c1 > c0 ? (s1 - s0) / (c1 - c0) * 1000 : -1), m * 1000 }'

cat >"$WORK/cold.lua" <<LUA
-- Each thread walks its own half of the issuer ids, so every request is for an issuer not asked for before.
local n = $N
local counter = tonumber(os.getenv("FROM") or "1")
local threads = {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  next_id = id
end
function request()
  local i = next_id
  next_id = next_id + 2
  if i > n then i = ((i - 1) % n) + 1 end
  return wrk.format("GET", "/issuers/scale-" .. i .. "/.well-known/jwks.json")
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f requests=%d non2xx=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
LUA
curl -fs "$BASE/issuers/scale-1/.well-known/jwks.json" | head -c 300
echo
# One connection (one request at a time: the latency of a cold load itself), from issuer 1 on; then $CONNS
# connections (throughput, latency with queueing) from the middle of the range on, so no issuer is asked for twice.
# Warm-up of the cold-load code path (JIT) on issuers of their own: from a quarter of the range on, 4 connections.
FROM=$((N / 4 + 1)) wrk -t2 -c4 -d"${JWKS_SECONDS}s" -s "$WORK/cold.lua" "$BASE" | sed 's/^RESULT/cold JWKS warm-up (not counted):/'
LINE1=$(FROM=1 wrk -t1 -c1 -d"${JWKS_SECONDS}s" --latency -s "$WORK/cold.lua" "$BASE" | grep '^RESULT')
REQS1=$(echo "$LINE1" | sed -E 's/.*requests=([0-9]+).*/\1/')
echo "cold JWKS, 1 connection: $LINE1"
LINE=$(FROM=$((N / 2 + 1)) wrk -t2 -c"$CONNS" -d"${JWKS_SECONDS}s" --latency -s "$WORK/cold.lua" "$BASE" | grep '^RESULT')
REQS16=$(echo "$LINE" | sed -E 's/.*requests=([0-9]+).*/\1/')
REQS=$((REQS16 + REQS1))
echo "cold JWKS, $CONNS connections: $LINE ($([ "$REQS1" -le $((N / 4)) ] && [ "$REQS16" -le $((N / 2)) ] && echo "every request a different issuer" || echo "more requests than issuers: some were warm"))"
AFTER_HEAP=$(heap_used_mb "$KPID")
awk -v a="$AFTER_HEAP" -v b="$BASE_HEAP" -v n="$N" -v r="$REQS" 'BEGIN {
  printf "heap used after full GC: %.0f MiB (baseline %.0f MiB): %.0f bytes per issuer (%d issuers, %d JWKS served cold)\n",
    a, b, (a - b) * 1048576 / n, n, r }'
machine
