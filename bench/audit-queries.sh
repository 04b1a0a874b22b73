#!/usr/bin/env bash
# Audit query latency over 1,000,000 stored records: starts a throwaway embedded Keyhold, bulk-inserts
# synthetic audit records with generate_series, then times GET /v1/keys/{kid}/history and filtered GET /v1/audit
# pages over HTTP and prints p50/p95/p99 and the query plans. Goal: p95 < 50 ms.
#
# Usage: bench/audit-queries.sh [rows] [requests-per-query]      (needs: a JDK, curl)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
N=${2:-300}
# A free port of our own: a port someone else's Keyhold answers on would be measured instead.
PORT=${KEYHOLD_BENCH_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
[ -f target/quarkus-app/quarkus-run.jar ] || ./mvnw -q -B -DskipTests package

WORK=$(mktemp -d)
cleanup() {
  [ -n "${KPID:-}" ] && kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null || true
  PIDF=$(find "$WORK/data" -name postmaster.pid 2>/dev/null | head -1); [ -n "$PIDF" ] && kill "$(head -1 "$PIDF")" 2>/dev/null || true
  sleep 1
  rm -rf "$WORK"
}
trap cleanup EXIT

KEYHOLD_DATA_DIR="$WORK/data" QUARKUS_HTTP_PORT=$PORT java -jar target/quarkus-app/quarkus-run.jar >"$WORK/keyhold.log" 2>&1 &
KPID=$!
for _ in $(seq 1 120); do
  kill -0 "$KPID" 2>/dev/null || { echo "Keyhold exited; log:" >&2; tail -20 "$WORK/keyhold.log" >&2; exit 1; }
  curl -fs "http://127.0.0.1:$PORT/q/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -fs "http://127.0.0.1:$PORT/q/health/ready" >/dev/null || { echo "Keyhold did not start; log:" >&2; tail -20 "$WORK/keyhold.log" >&2; exit 1; }

curl -fs -u admin:keyhold-dev -H 'Content-Type: application/json' \
  -d '{"id":"real","issuerUri":"https://real.example","audiences":["api"],"custodians":["alice","bob","carol"],"signers":["signer"]}' \
  "http://127.0.0.1:$PORT/v1/issuers" >/dev/null
KID=$(curl -fs -u scheduler:keyhold-dev -H 'Content-Type: application/json' -d '{}' \
  "http://127.0.0.1:$PORT/v1/issuers/real/rotations" | sed -E 's/.*"kid":"([^"]+)".*/\1/')

PG_PORT=$(sed -n 4p "$(find "$WORK/data" -name postmaster.pid | head -1)")
PGJAR=$(ls target/quarkus-app/lib/main/org.postgresql.postgresql-*.jar | head -1)
export PGPASSWORD="$(cat "$WORK/data/pg-password")"  # embedded PostgreSQL requires its password
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%FT%TZ)"
java -cp "$PGJAR" bench/AuditQueriesBench.java "jdbc:postgresql://127.0.0.1:$PG_PORT/postgres" \
  "http://127.0.0.1:$PORT" "$KID" "$ROWS" "$N"
