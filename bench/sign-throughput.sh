#!/usr/bin/env bash
# Signing throughput: tokens/s through POST /v1/issuers/{id}/sign over HTTP (wrk, Basic auth, 32 connections)
# against the raw SunPKCS11 signing rate (2 threads) on the same SoftHSM2 token and the same signing input,
# in the same run. Prints both rates, their ratio and the HTTP latency percentiles.
# Goals: ES256 >= 0.35 x raw, RS256 >= 0.8 x raw, p99 < 20 ms.
#
# Usage: bench/sign-throughput.sh [seconds] [connections] [rounds]   (defaults 10 32 5; needs wrk, curl, psql)
# ALGS="RS256" measures only the algorithms named (default: ES256 RS256); APP=dir runs another build's quarkus-app;
# ISSUER_JSON='"ledgerBestEffort":true' adds members to the bench issuers' definitions (default: none, so the
# issuance ledger is strict: a token is handed out once its ledger row has committed).
# WARMUP=seconds is the shortest warm-up (default 15; it goes on until the server's JIT compilers are quiet).
#
# Raw and HTTP windows of [seconds] each alternate, raw first and last (rounds + 1 raw windows); each HTTP window
# is compared with the mean of the raw windows just before and just after it, which cancels a steady drift of
# the machine's speed: on a shared (virtual) machine whose speed drifts by tens of percent over minutes, a raw
# figure taken away from the HTTP figure says more about the drift than about Keyhold. The summary line per
# algorithm gives the median of the round ratios, the pooled ratio (all HTTP tokens over all raw signatures, per second) and the
# median and worst of the rounds' p99.
#
# Activation: Keyhold needs an ACTIVE key to sign, which takes two custodian approvals: alice and bob approve
# through POST /v1/activations/{id}/decisions and the bench waits for the activation.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-32}
ROUNDS=${3:-5}
PORT=${KEYHOLD_BENCH_PORT:-18090}
. bench/sign-setup.sh

for ALG in ${ALGS:-ES256 RS256}; do
  ISSUER="bench-$(echo $ALG | tr 'A-Z' 'a-z')"
  create_issuer "$ISSUER" "$ALG" "${ISSUER_JSON:-}"
  activate "$ISSUER"
  INPUT=$(signing_input "$ISSUER")

  warm_up "$ISSUER"
  raw_start "$ALG" "$DURATION" "$INPUT"
  : >"$WORK/rounds"
  raw_window
  RAW_BEFORE=$RAW
  for r in $(seq 1 "$ROUNDS"); do
    LINE=$(ISSUER=$ISSUER wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s bench/sign.lua "$BASE" | grep '^RESULT')
    raw_window
    RAW_AFTER=$RAW
    RAW=$(( (RAW_BEFORE + RAW_AFTER) / 2 ))
    RPS=$(echo "$LINE" | sed -E 's/.*rps=([0-9.]+).*/\1/')
    P99=$(echo "$LINE" | sed -E 's/.*p99_ms=([0-9.]+).*/\1/')
    echo "$RPS $RAW $P99" >>"$WORK/rounds"
    awk -v a="$RPS" -v b="$RAW" -v b0="$RAW_BEFORE" -v b1="$RAW_AFTER" -v alg="$ALG" -v r="$r" -v c="$RAW_CPU" -v line="$LINE" 'BEGIN {
      printf "%s round %d: raw SunPKCS11 (2 threads) %d sig/s (before %d, after %d; %d us CPU/sig); http %s; ratio %.2f\n", alg, r, b, b0, b1, c, line, a / b }'
    RAW_BEFORE=$RAW_AFTER
  done
  raw_adapter
  raw_stop
  echo "$ALG: Keyhold's HSM adapter in-process (2 threads) $ADAPTER sig/s"
  awk -v alg="$ALG" -v ratio="$(awk '{print $1 / $2}' "$WORK/rounds" | median)" \
    -v p99="$(awk '{print $3}' "$WORK/rounds" | median)" '
    { http += $1; raw += $2; if ($3 > worst) worst = $3 }
    END {
      printf "%s: %d rounds: ratio http/raw median %.2f, pooled %.2f; p99 median %.2f ms, worst %.2f ms\n",
        alg, NR, ratio, http / raw, p99, worst
    }' "$WORK/rounds"
done
