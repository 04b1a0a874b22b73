#!/usr/bin/env bash
# Per-request overhead of the signing path: starts the packaged jar (embedded mode, rate limits and canaries
# off), creates an ES256 and an RS256 issuer with ACTIVE keys (alice and bob approve with signed statements,
# bench/sign-setup.sh's activate), then measures with wrk (-t2, CONNS connections):
#   jwks   unauthenticated GET /issuers/{id}/.well-known/jwks.json (plain Vert.x route, no auth)
#   auth404 POST /v1/issuers/NOT_A_SLUG/sign as signer: Basic auth, JAX-RS, Jackson, 404 problem; no HSM
##   es256 / rs256  POST /v1/issuers/{id}/sign as signer
# Usage: bench/sign-overhead.sh [seconds] [connections] [rounds] [targets...]
# ISSUER_JSON='"ledgerBestEffort":true' adds members to the bench issuers' definitions (default: none, so the
# issuance ledger is strict: a token is handed out once its ledger row has committed).
#   JAVA_OPTS (e.g. -XX:StartFlightRecording=...) is passed to the server JVM; KEYHOLD_BENCH_APP names another
#   quarkus-app directory (to compare builds in alternating runs); THREADS_CPU=1 adds the server CPU per request
#   by thread group (signing pool, event loops, JIT, GC). Prints requests/s, latency and the server process CPU
#   time per request (from /proc: robust to a busy shared machine, unlike requests/s), its PostgreSQL's (postmaster
#   and backends: the ledger's writes) and their sum. Each target is warmed up until its rate is steady and the JIT
#   quiet (bench/warm.sh: WARM_WINDOW, WARM_TOLERANCE, WARMUP_MAX).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-32}
ROUNDS=${3:-1}
shift 3 2>/dev/null || shift $#
TARGETS=${*:-jwks auth404 es256 rs256}
PORT=${KEYHOLD_BENCH_PORT:-18091}
APP=${KEYHOLD_BENCH_APP:-target/quarkus-app}
. bench/sign-setup.sh
for ALG in ES256 RS256; do
  ISSUER="bench-$(echo $ALG | tr 'A-Z' 'a-z')"
  create_issuer "$ISSUER" "$ALG" "${ISSUER_JSON:-}"
  activate "$ISSUER"
done
# CPU time (user + system, clock ticks) the server process used so far: per-request cost that does not depend on
# how busy the shared machine is, unlike requests/s.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$KPID/stat"; }
# THREADS_CPU=1: also the server CPU per request by thread group (thread_ticks, bench/sign-setup.sh), largest first.
run() { # target seconds
  case $1 in
    jwks) wrk -t2 -c"$CONNS" -d"$2s" --latency "$BASE/issuers/bench-es256/.well-known/jwks.json" ;;
    auth404) ISSUER=NOT_A_SLUG wrk -t2 -c"$CONNS" -d"$2s" --latency -s bench/sign.lua "$BASE" ;;
    es256) ISSUER=bench-es256 wrk -t2 -c"$CONNS" -d"$2s" --latency -s bench/sign.lua "$BASE" ;;
    rs256) ISSUER=bench-rs256 wrk -t2 -c"$CONNS" -d"$2s" --latency -s bench/sign.lua "$BASE" ;;
  esac
}
# Warm-up of each target until its rate is steady and the JIT quiet (bench/warm.sh), not for a fixed time.
window_rate() { run "$1" "$WARM_WINDOW" | awk '/Requests\/sec/ {print $2}'; }
for t in $TARGETS; do JIT_PID=$KPID warm_until_steady "$t" window_rate "$t"; done
for r in $(seq 1 "$ROUNDS"); do
  for t in $TARGETS; do
    [ -n "${THREADS_CPU:-}" ] && thread_ticks >"$WORK/threads0"
    C0=$(cpu_ticks)
    G0=$(pg_ticks)
    OUT=$(run "$t" "$DURATION")
    C1=$(cpu_ticks)
    G1=$(pg_ticks)
    RPS=$(echo "$OUT" | awk '/Requests\/sec/ {print $2}')
    P50=$(echo "$OUT" | awk '$1=="50%" {print $2}')
    P99=$(echo "$OUT" | awk '$1=="99%" {print $2}')
    NON=$(echo "$OUT" | awk '/Non-2xx/ {print $NF}')
    REQS=$(echo "$OUT" | awk '/requests in/ {print $1}')
    CPU_US=$(awk -v d=$((C1 - C0)) -v n="$REQS" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", d * 1e6 / hz / n }')
    PG_US=$(awk -v d=$((G1 - G0)) -v n="$REQS" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", d * 1e6 / hz / n }')
    printf '%s round %d %-8s rps=%s p50=%s p99=%s non2xx=%s server_cpu_us_per_req=%s pg_cpu_us_per_req=%s total_cpu_us_per_req=%s load=%s\n' \
      "$(date -u +%H:%M:%S)" "$r" "$t" "$RPS" "$P50" "$P99" "${NON:-0}" "$CPU_US" "$PG_US" "$((CPU_US + PG_US))" \
      "$(cut -d' ' -f1 /proc/loadavg)"
    if [ -n "${THREADS_CPU:-}" ]; then
      # -a2 -e0: a thread group that appeared during the round counts from zero
      thread_ticks | LC_ALL=C join -t'|' -a2 -e0 -o 0,1.2,2.2 "$WORK/threads0" - | awk -F'|' -v n="$REQS" -v hz="$(getconf CLK_TCK)" \
        '$3 > $2 { printf "    %6.0f us/req  %s\n", ($3 - $2) * 1e6 / hz / n, $1 }' | sort -n -r
    fi
  done
done
if [ -n "${KEEP_LOG:-}" ]; then cp "$WORK/keyhold.log" "$KEEP_LOG"; fi
