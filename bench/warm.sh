# Sourced by the benches: warm up until the JIT is quiet, not for a fixed time.
#
# warm_until_steady LABEL CMD...: runs CMD (one load window of $WARM_WINDOW seconds that prints its requests/s) again
# and again until two consecutive windows differ by less than WARM_TOLERANCE percent (default 5) and, when JIT_PID
# names a JVM, its JIT compiler threads used under 2 % of one CPU in the last window; at least WARM_MIN_ROUNDS
# windows (default 2), at most WARMUP_MAX seconds (default 120). Prints one line saying how it ended. (The JWKS bench
# still rose from 13.8k to 22.4k req/s across its measured rounds after a fixed 15 s warm-up.)
WARM_WINDOW=${WARM_WINDOW:-5}

# CPU ticks (user + system) of a JVM's JIT compiler threads (C1 and C2) so far.
jit_ticks_of() { # pid
  local t s=0 v
  for t in /proc/"$1"/task/*; do
    case "$(cat "$t/comm" 2>/dev/null)" in
      *Compiler*) v=$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0); s=$((s + ${v:-0})) ;;
    esac
  done
  echo "$s"
}

warm_until_steady() { # label cmd...
  local label=$1
  shift
  local spent=0 rounds=0 prev="" rate="" steady=no quiet=yes before=0 after=0
  while [ "$spent" -lt "${WARMUP_MAX:-120}" ]; do
    [ -n "${JIT_PID:-}" ] && before=$(jit_ticks_of "$JIT_PID")
    rate=$("$@")
    rate=${rate:-0}
    spent=$((spent + WARM_WINDOW))
    rounds=$((rounds + 1))
    if [ -n "${JIT_PID:-}" ]; then
      after=$(jit_ticks_of "$JIT_PID")
      quiet=$(awk -v d=$((after - before)) -v hz="$(getconf CLK_TCK)" -v w="$WARM_WINDOW" \
        'BEGIN { print (d / hz < 0.02 * w) ? "yes" : "no" }')
    fi
    if [ -n "$prev" ]; then
      steady=$(awk -v a="$prev" -v b="$rate" -v t="${WARM_TOLERANCE:-5}" \
        'BEGIN { d = (b - a) / (a > 0 ? a : 1); if (d < 0) d = -d; print (d * 100 < t) ? "yes" : "no" }')
      if [ "$steady" = yes ] && [ "$quiet" = yes ] && [ "$rounds" -ge "${WARM_MIN_ROUNDS:-2}" ]; then
        break
      fi
    fi
    prev=$rate
  done
  echo "$label: warm-up ${spent} s in ${rounds} windows, last two ${prev:-none} and ${rate} req/s" \
    "(within ${WARM_TOLERANCE:-5} %: $steady; JIT quiet: $quiet)"
}
