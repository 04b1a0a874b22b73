#!/usr/bin/env bash
# The event loops' scheduling policy, measured: SCHED_BATCH (keyhold.signing.batch-event-loops, the default on Linux)
# against the normal policy, in one Keyhold process. After a warm-up, pairs of HTTP windows (wrk -t2, CONNS
# connections, POST /v1/issuers/{id}/sign) run with the event-loop threads switched between the two policies by
# chrt, the order swapped every pair (normal first, then batch first, ...) so that a steady drift of the machine's
# speed favours neither; as in sign-throughput.sh, each HTTP window is compared with the raw SunPKCS11 windows just
# before and after it. Prints one line per window and, per policy, the median ratio and p99.
#
# Usage: bench/event-loop-policy.sh [seconds] [pairs] [algorithm] [connections]   (defaults 10 4 RS256 32;
# needs chrt, wrk, curl, psql). APP=dir runs another build's quarkus-app.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
PAIRS=${2:-4}
ALG=${3:-RS256}
CONNS=${4:-32}
PORT=${KEYHOLD_BENCH_PORT:-18092}
command -v chrt >/dev/null || { echo "bench needs chrt (util-linux)" >&2; exit 1; }
. bench/sign-setup.sh
ISSUER="bench-$(echo "$ALG" | tr 'A-Z' 'a-z')"
create_issuer "$ISSUER" "$ALG"
activate_by_sql "$ISSUER"
sleep 1.5 # JWKS max-age PT1S: a sign snapshot cached before the SQL shortcut has expired
INPUT=$(signing_input "$ISSUER")
warm_up "$ISSUER"

policy() { # batch | other: sets it on every event-loop thread of the server
  local t
  for t in /proc/"$KPID"/task/*; do
    [[ "$(cat "$t/comm" 2>/dev/null)" == vert.x-eventloo* ]] && chrt --"$1" -p 0 "${t##*/}"
  done
  return 0
}

raw_start "$ALG" "$DURATION" "$INPUT"
raw_window
BEFORE=$RAW
: >"$WORK/windows"
for i in $(seq 1 "$PAIRS"); do
  if [ $((i % 2)) = 1 ]; then order="other batch"; else order="batch other"; fi
  for mode in $order; do
    policy "$mode"
    LINE=$(ISSUER=$ISSUER wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s bench/sign.lua "$BASE" | grep '^RESULT')
    raw_window
    RPS=$(echo "$LINE" | sed -E 's/.*rps=([0-9.]+).*/\1/')
    P99=$(echo "$LINE" | sed -E 's/.*p99_ms=([0-9.]+).*/\1/')
    echo "$mode $RPS $(( (BEFORE + RAW) / 2 )) $P99" >>"$WORK/windows"
    awk -v m="$mode" -v a="$RPS" -v b=$(( (BEFORE + RAW) / 2 )) -v line="$LINE" -v alg="$ALG" \
      'BEGIN { printf "%s window, event loops %-5s raw %d sig/s; http %s; ratio %.2f\n", alg, m, b, line, a / b }'
    BEFORE=$RAW
  done
done
raw_stop
for mode in batch other; do
  awk -v alg="$ALG" -v m="$mode" -v ratio="$(awk -v m="$mode" '$1 == m {print $2 / $3}' "$WORK/windows" | median)" \
    -v p99="$(awk -v m="$mode" '$1 == m {print $4}' "$WORK/windows" | median)" '
    $1 == m { n++ }
    END { printf "%s, event loops %s: %d windows, ratio http/raw median %.2f; p99 median %.2f ms\n", alg, m, n, ratio, p99 }
  ' "$WORK/windows"
done
