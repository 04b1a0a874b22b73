#!/usr/bin/env bash
# Per-request overhead of the signing path: starts the packaged jar (embedded mode, rate limits and canaries
# off), creates an ES256 and an RS256 issuer with ACTIVE keys (activated with SQL in the bench's own throw-away
# embedded database: a bench-only shortcut around dual control), then measures with wrk (-t2, CONNS connections):
#   jwks   unauthenticated GET /issuers/{id}/.well-known/jwks.json (plain Vert.x route, no auth)
#   auth404 POST /v1/issuers/NOT_A_SLUG/sign as signer: Basic auth, JAX-RS, Jackson, 404 problem; no HSM
#           (no snapshot for it, so always through SigningResource, never the fast SignRoute)
#   es256 / rs256  POST /v1/issuers/{id}/sign as signer
# Usage: bench/sign-overhead.sh [seconds] [connections] [rounds] [targets...]
#   JAVA_OPTS (e.g. -XX:StartFlightRecording=...) is passed to the server JVM; KEYHOLD_BENCH_APP names another
#   quarkus-app directory (to compare builds in alternating runs). Prints requests/s, latency and the server
#   process CPU time per request (from /proc: robust to a busy shared machine, unlike requests/s).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-32}
ROUNDS=${3:-1}
shift 3 2>/dev/null || shift $#
TARGETS=${*:-jwks auth404 es256 rs256}
PORT=${KEYHOLD_BENCH_PORT:-18091}
APP=${KEYHOLD_BENCH_APP:-target/quarkus-app}
[ -f "$APP/quarkus-run.jar" ] || ./mvnw -q -B -DskipTests -DskipEnsure package
WORK=$(mktemp -d)
cleanup() {
  [ -n "${KPID:-}" ] && kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
KEYHOLD_DATA_DIR="$WORK/data" QUARKUS_HTTP_PORT=$PORT KEYHOLD_JWKS_MAX_AGE=PT1S \
  KEYHOLD_SIGNING_RATE_LIMIT_PER_ISSUER=0 KEYHOLD_SIGNING_RATE_LIMIT_PER_PRINCIPAL=0 KEYHOLD_CANARY_INTERVAL=off \
  java -Xmx1g ${JAVA_OPTS:-} -jar "$APP/quarkus-run.jar" >"$WORK/keyhold.log" 2>&1 &
KPID=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 120); do curl -fs "$BASE/q/health/ready" >/dev/null 2>&1 && break; sleep 1; done
curl -fs "$BASE/q/health/ready" >/dev/null || { tail -20 "$WORK/keyhold.log" >&2; exit 1; }
PGPORT=$(sed -n 4p "$WORK/data/pg/postmaster.pid")
sql() { psql -q -t -A -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -c "$1"; }
for ALG in ES256 RS256; do
  ISSUER="bench-$(echo $ALG | tr 'A-Z' 'a-z')"
  curl -fs -u admin:keyhold-dev -H 'Content-Type: application/json' -o /dev/null "$BASE/v1/issuers" -d "{
    \"id\":\"$ISSUER\",\"issuerUri\":\"https://$ISSUER.example\",\"algorithm\":\"$ALG\",\"audiences\":[\"api://$ISSUER\"],
    \"custodians\":[\"alice\",\"bob\",\"carol\"],\"approvalsRequired\":2,\"signers\":[\"signer\"],
    \"publishLead\":\"PT2S\",\"rotationPeriod\":\"P30D\",\"tokenTtl\":\"PT1H\"}"
  kid=$(curl -fs -u scheduler:keyhold-dev -H 'Content-Type: application/json' -d '{}' "$BASE/v1/issuers/$ISSUER/rotations" \
    | sed -E 's/.*"kid":"([^"]+)".*/\1/')
  sql "update activation_request set state = 'EXECUTED', decided_at = now(), executed_at = now() where kid = '$kid';
       update signing_key set state = 'ACTIVE', activated_at = now(), not_after = now() + interval '45 days' where kid = '$kid'"
done
sleep 1.5 # JWKS max-age PT1S: the sign snapshot may have been cached before the SQL shortcut
# CPU time (user + system, clock ticks) the server process used so far: per-request cost that does not depend on
# how busy the shared machine is, unlike requests/s.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$KPID/stat"; }
run() { # target seconds
  case $1 in
    jwks) wrk -t2 -c"$CONNS" -d"$2s" --latency "$BASE/issuers/bench-es256/.well-known/jwks.json" ;;
    auth404) ISSUER=NOT_A_SLUG wrk -t2 -c"$CONNS" -d"$2s" --latency -s bench/sign.lua "$BASE" ;;
    es256) ISSUER=bench-es256 wrk -t2 -c"$CONNS" -d"$2s" --latency -s bench/sign.lua "$BASE" ;;
    rs256) ISSUER=bench-rs256 wrk -t2 -c"$CONNS" -d"$2s" --latency -s bench/sign.lua "$BASE" ;;
  esac
}
for t in $TARGETS; do run "$t" 3 >/dev/null; done # warm-up
for r in $(seq 1 "$ROUNDS"); do
  for t in $TARGETS; do
    C0=$(cpu_ticks)
    OUT=$(run "$t" "$DURATION")
    C1=$(cpu_ticks)
    RPS=$(echo "$OUT" | awk '/Requests\/sec/ {print $2}')
    P50=$(echo "$OUT" | awk '$1=="50%" {print $2}')
    P99=$(echo "$OUT" | awk '$1=="99%" {print $2}')
    NON=$(echo "$OUT" | awk '/Non-2xx/ {print $NF}')
    REQS=$(echo "$OUT" | awk '/requests in/ {print $1}')
    CPU_US=$(awk -v d=$((C1 - C0)) -v n="$REQS" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", d * 1e6 / hz / n }')
    printf '%s round %d %-8s rps=%s p50=%s p99=%s non2xx=%s server_cpu_us_per_req=%s load=%s\n' "$(date -u +%H:%M:%S)" "$r" "$t" \
      "$RPS" "$P50" "$P99" "${NON:-0}" "$CPU_US" "$(cut -d' ' -f1 /proc/loadavg)"
  done
done
if [ -n "${KEEP_LOG:-}" ]; then cp "$WORK/keyhold.log" "$KEEP_LOG"; fi
