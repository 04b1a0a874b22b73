#!/usr/bin/env bash
# Signing throughput: tokens/s through POST /v1/issuers/{id}/sign over HTTP (wrk, Basic auth, 32 connections)
# against the raw SunPKCS11 signing rate (2 threads) on the same SoftHSM2 token and the same signing input,
# in the same run. Prints both rates, their ratio and the HTTP latency percentiles.
# Goals (issue 7): ES256 >= 0.35 x raw, RS256 >= 0.8 x raw, p99 < 20 ms.
#
# Usage: bench/sign-throughput.sh [seconds] [connections]       (needs wrk, curl, psql)
#
# Activation: Keyhold needs an ACTIVE key to sign, which takes two custodian approvals. When the decisions API
# (POST /v1/activations/{id}/decisions) is present, alice and bob approve through it and the bench waits for the
# activation. Without it (a build of the signing branch alone), the bench activates its throw-away key with
# SQL in the embedded PostgreSQL of its temporary data directory: a bench-only shortcut around dual control.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20}
CONNS=${2:-32}
THREADS=2
PORT=${KEYHOLD_BENCH_PORT:-18090}
for tool in wrk curl psql java; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool" >&2; exit 1; }
done
[ -f target/quarkus-app/quarkus-run.jar ] || ./mvnw -q -B -DskipTests -DskipEnsure package
CP='target/quarkus-app/lib/boot/*:target/quarkus-app/lib/main/*:target/quarkus-app/app/*'

WORK=$(mktemp -d)
cleanup() {
  [ -n "${KPID:-}" ] && kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# publishLead must exceed the JWKS max-age: a 1 s max-age lets the bench keys become activatable after 2 s.
  KEYHOLD_DATA_DIR="$WORK/data" QUARKUS_HTTP_PORT=$PORT KEYHOLD_JWKS_MAX_AGE=PT1S \
  KEYHOLD_SIGNING_RATE_LIMIT_PER_ISSUER=0 KEYHOLD_SIGNING_RATE_LIMIT_PER_PRINCIPAL=0 KEYHOLD_CANARY_INTERVAL=off \
  QUARKUS_LOG_CATEGORY__DEV_KEYHOLD_VERIFY_VERDICTS__LEVEL=WARN \
  java -Xmx1g -jar target/quarkus-app/quarkus-run.jar >"$WORK/keyhold.log" 2>&1 &
KPID=$!
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$PORT/q/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -fs "http://127.0.0.1:$PORT/q/health/ready" >/dev/null || { echo "Keyhold did not start; log:" >&2; tail -20 "$WORK/keyhold.log" >&2; exit 1; }
BASE="http://127.0.0.1:$PORT"
PGPORT=$(sed -n 4p "$WORK/data/pg/postmaster.pid")
sql() { psql -q -t -A -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -c "$1"; }

activate() { # issuer
  local issuer=$1 kid request status
  kid=$(curl -fs -u scheduler:keyhold-dev -H 'Content-Type: application/json' -d '{}' "$BASE/v1/issuers/$issuer/rotations" \
    | sed -E 's/.*"kid":"([^"]+)".*/\1/')
  request=$(sql "select id from activation_request where kid = '$kid' and state = 'OPEN'")
  sleep 3 # past publishLead (PT2S)
  status=$(curl -s -o /dev/null -w '%{http_code}' -u alice:keyhold-dev -H 'Content-Type: application/json' \
    -d '{"decision":"approve","comment":"bench"}' "$BASE/v1/activations/$request/decisions")
  if [ "$status" = 200 ] || [ "$status" = 201 ]; then
    curl -fs -o /dev/null -u bob:keyhold-dev -H 'Content-Type: application/json' \
      -d '{"decision":"approve","comment":"bench"}' "$BASE/v1/activations/$request/decisions"
    for _ in $(seq 1 60); do
      [ "$(sql "select state from signing_key where kid = '$kid'")" = ACTIVE ] && break
      sleep 1
    done
    echo "activation of $issuer: decisions API (alice, bob)" >&2
  else
    sql "update activation_request set state = 'EXECUTED', decided_at = now(), executed_at = now() where id = '$request';
         update signing_key set state = 'ACTIVE', activated_at = now(), not_after = now() + interval '45 days' where kid = '$kid'"
    echo "activation of $issuer: SQL shortcut (no decisions API in this build: HTTP $status)" >&2
  fi
  [ "$(sql "select state from signing_key where kid = '$kid'")" = ACTIVE ] || { echo "no ACTIVE key for $issuer" >&2; exit 1; }
}

for ALG in ES256 RS256; do
  ISSUER="bench-$(echo $ALG | tr 'A-Z' 'a-z')"
  curl -fs -u admin:keyhold-dev -H 'Content-Type: application/json' -o /dev/null "$BASE/v1/issuers" -d "{
    \"id\":\"$ISSUER\",\"issuerUri\":\"https://$ISSUER.example\",\"algorithm\":\"$ALG\",\"audiences\":[\"api://$ISSUER\"],
    \"custodians\":[\"alice\",\"bob\",\"carol\"],\"approvalsRequired\":2,\"signers\":[\"signer\"],
    \"publishLead\":\"PT2S\",\"rotationPeriod\":\"P30D\",\"tokenTtl\":\"PT1H\"}"
  activate "$ISSUER"
  TOKEN=$(curl -fs -u signer:keyhold-dev -H 'Content-Type: application/json' \
    -d "{\"claims\":{\"sub\":\"user-1\",\"aud\":\"api://$ISSUER\",\"scope\":\"read write\"}}" "$BASE/v1/issuers/$ISSUER/sign" \
    | sed -E 's/.*"token":"([^"]+)".*/\1/')
  INPUT=${TOKEN%.*}

  RAWOUT=$(java --add-exports=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED -cp "$CP" \
    bench/RawSignBench.java "$WORK/data" "$ALG" "$THREADS" "$DURATION" "$INPUT" 2>/dev/null)
  RAW=$(echo "$RAWOUT" | awk '/^raw/ {print $4}')
  ADAPTER=$(echo "$RAWOUT" | awk '/^adapter/ {print $4}')
  ISSUER=$ISSUER wrk -t2 -c"$CONNS" -d5s -s bench/sign.lua "$BASE" >/dev/null  # warm-up (JIT, pools)
  OUT=$(ISSUER=$ISSUER wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s bench/sign.lua "$BASE")
  LINE=$(echo "$OUT" | grep '^RESULT')
  RPS=$(echo "$LINE" | sed -E 's/.*rps=([0-9.]+).*/\1/')
  echo "$ALG: http $LINE"
  echo "$ALG: raw SunPKCS11 ($THREADS threads) $RAW sig/s; Keyhold's HSM adapter in-process $ADAPTER sig/s"
  awk -v a="$RPS" -v b="$RAW" -v alg="$ALG" 'BEGIN { printf "%s: ratio http/raw = %.2f\n", alg, a / b }'
done
