#!/usr/bin/env bash
# JWKS throughput: Keyhold's /issuers/{id}/.well-known/jwks.json against nginx serving the same bytes as a
# static file, both loaded by wrk in the same run on this machine. Prints both rates and their ratio.
# Goal: Keyhold >= 0.7 x nginx at 64 connections.
#
# Usage: [ROUNDS=3] [APP=quarkus-app dir] bench/jwks-vs-nginx.sh [seconds] [connections]     (needs: wrk, nginx; apt-get install wrk nginx-light)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}
CONNS=${2:-64}
THREADS=2
KPORT=${KEYHOLD_BENCH_PORT:-18080}
NPORT=${NGINX_BENCH_PORT:-18081}
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool: sudo apt-get install wrk nginx-light curl" >&2; exit 1; }
done
APP=${APP:-target/quarkus-app}
[ -f "$APP/quarkus-run.jar" ] || ./mvnw -q -B -DskipTests package

WORK=$(mktemp -d)
cleanup() {
  [ -n "${KPID:-}" ] && kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

KEYHOLD_DATA_DIR="$WORK/data" QUARKUS_HTTP_PORT=$KPORT java -jar "$APP/quarkus-run.jar" >"$WORK/keyhold.log" 2>&1 &
KPID=$!
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$KPORT/q/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -fs "http://127.0.0.1:$KPORT/q/health/ready" >/dev/null || { echo "Keyhold did not start; log:" >&2; tail -20 "$WORK/keyhold.log" >&2; exit 1; }

AUTH=(-u admin:keyhold-dev -H 'Content-Type: application/json')
curl -fs "${AUTH[@]}" -d '{"id":"bench","issuerUri":"https://bench.example","audiences":["api"],"custodians":["alice","bob","carol"],"signers":["signer"]}' \
  "http://127.0.0.1:$KPORT/v1/issuers" >/dev/null
curl -fs -u scheduler:keyhold-dev -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:$KPORT/v1/issuers/bench/rotations" >/dev/null
URL_K="http://127.0.0.1:$KPORT/issuers/bench/.well-known/jwks.json"
mkdir -p "$WORK/www"
curl -fs "$URL_K" -o "$WORK/www/jwks.json"

cat >"$WORK/nginx.conf" <<NGINX
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  server {
    listen 127.0.0.1:$NPORT;
    location = /jwks.json { root $WORK/www; default_type application/json; add_header Cache-Control "public, max-age=300"; etag on; }
  }
}
NGINX
mkdir -p "$WORK/tmp"
nginx -c "$WORK/nginx.conf"
URL_N="http://127.0.0.1:$NPORT/jwks.json"

rate() { wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
# Warm both (JIT for Keyhold), then measure.
# Warm both until their rates are steady and Keyhold's JIT is quiet (bench/warm.sh), not for a fixed time: after a
# fixed 15 s the JWKS rounds still rose from 13.8k to 22.4k req/s.
. bench/warm.sh
window_rate() { wrk -t"$THREADS" -c"$CONNS" -d"${WARM_WINDOW}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
JIT_PID=$KPID warm_until_steady keyhold window_rate "$URL_K"
warm_until_steady nginx window_rate "$URL_N"
# Alternate rounds so background load hits both alike; report the median of each.
ROUNDS=${ROUNDS:-3}
KS=(); NS=()
for _ in $(seq 1 "$ROUNDS"); do
  KS+=("$(rate "$URL_K")")
  NS+=("$(rate "$URL_N")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
K=$(median "${KS[@]}")
N=$(median "${NS[@]}")
echo "rounds keyhold: ${KS[*]}"
echo "rounds nginx:   ${NS[*]}"
RATIO=$(awk -v k="$K" -v n="$N" 'BEGIN { printf "%.2f", k / n }')
echo "body bytes: $(wc -c <"$WORK/www/jwks.json")  connections: $CONNS  duration: ${DURATION}s"
echo "keyhold  req/s: $K"
echo "nginx    req/s: $N"
echo "ratio keyhold/nginx: $RATIO"
