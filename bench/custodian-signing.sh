#!/usr/bin/env bash
# Signing with and without custodian-signature verification (docs/benchmarks.md, "Custodian signatures: signing
# throughput"). Goal: tokens/s and p99 unchanged within noise.
#
#   on   this build: a signing snapshot is built only after the issuer's policy chain and the key's activation
#        signatures verified (ApprovalEvidence.verifyIssuer), and cached by chain head
#   off  the same commit built again with that one call replaced by "verified" (a copy of the tree under
#        target/bench-builds/<commit>-verify-off, changed by this script; Keyhold itself has no switch for it)
#
# Both run side by side (own port, data directory and PostgreSQL), each with an ES256 issuer whose key alice and bob
# approved with signed statements; wrk -t2 -c[connections] -s bench/sign.lua in windows of [seconds], the two in
# alternating order per round after each warmed up until steady and JIT-quiet. Per window: tokens/s, p99, server and
# PostgreSQL CPU per token.
#
# Usage: bench/custodian-signing.sh [seconds=10] [connections=32] [rounds=5]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-32}
ROUNDS=${3:-5}
COMMIT=$(git rev-parse --short=12 HEAD)
OFF_DIR=target/bench-builds/$COMMIT-verify-off
if [ ! -f "$OFF_DIR/target/quarkus-app/quarkus-run.jar" ]; then
  rm -rf "$OFF_DIR"
  mkdir -p "$OFF_DIR"
  git archive HEAD | tar -x -C "$OFF_DIR"
  git diff HEAD | (cd "$OFF_DIR" && git apply --allow-empty) # uncommitted changes too, so both builds match
  F=$OFF_DIR/src/main/java/dev/keyhold/signing/SigningCache.java
  grep -c 'complete = evidence.verifyIssuer(issuer, row);' "$F" | grep -qx 1 \
    || { echo "SigningCache no longer has the one verification call this bench replaces" >&2; exit 1; }
  sed -i 's/complete = evidence.verifyIssuer(issuer, row);/complete = true; \/\/ bench build: verification off/' "$F"
  (cd "$OFF_DIR" && ./mvnw -B -o -q -DskipTests -DskipValidator -DskipCli -DskipEnsureChromium=true package >&2)
fi
APP_OFF=$OFF_DIR/target/quarkus-app
. bench/sign-setup.sh
HZ=$(getconf CLK_TCK)
machine

ON_BASE=$BASE ON_PG=$PGPORT ON_PID=$KPID ON_DATA=$WORK/data
OFF_PORT=$(free_port)
start_keyhold "$APP_OFF" "$OFF_PORT" "$WORK/data-off"
OFF_BASE=http://127.0.0.1:$OFF_PORT OFF_PG=$STARTED_PGPORT OFF_PID=$STARTED_PID OFF_DATA=$WORK/data-off
use() { # on|off
  case $1 in
    on) BASE=$ON_BASE PGPORT=$ON_PG KPID=$ON_PID DATA=$ON_DATA ;;
    off) BASE=$OFF_BASE PGPORT=$OFF_PG KPID=$OFF_PID DATA=$OFF_DATA ;;
  esac
  PGPASSWORD=$(cat "$DATA/pg-password")
}
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pgdir_ticks() { # data dir: its PostgreSQL's CPU ticks (postmaster with its exited children, live children)
  local pm
  pm=$(head -1 "$1/pg/postmaster.pid")
  { awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat"
    for c in $(pgrep -P "$pm"); do awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || true; done
  } | awk '{s += $1} END {print s + 0}'
}
for v in on off; do
  use $v
  create_issuer cs ES256
  activate cs
done
for v in on off; do use $v; ALG="ES256 verification $v"; warm_up cs; done

: >"$WORK/windows"
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then ORDER="on off"; else ORDER="off on"; fi
  for v in $ORDER; do
    use $v
    C0=$(proc_ticks "$KPID"); P0=$(pgdir_ticks "$DATA")
    LINE=$(ISSUER=cs wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s bench/sign.lua "$BASE" | grep '^RESULT')
    C1=$(proc_ticks "$KPID"); P1=$(pgdir_ticks "$DATA")
    REQS=$(echo "$LINE" | sed -E 's/.*requests=([0-9]+).*/\1/')
    CPU=$(awk -v d=$((C1 - C0)) -v n="$REQS" -v hz="$HZ" 'BEGIN { printf "%.0f", d * 1e6 / hz / n }')
    PGC=$(awk -v d=$((P1 - P0)) -v n="$REQS" -v hz="$HZ" 'BEGIN { printf "%.0f", d * 1e6 / hz / n }')
    RPS=$(echo "$LINE" | sed -E 's/.*rps=([0-9.]+).*/\1/')
    P99=$(echo "$LINE" | sed -E 's/.*p99_ms=([0-9.]+).*/\1/')
    echo "$r $v $RPS $P99 $CPU $PGC" >>"$WORK/windows"
    echo "round $r $v: $LINE server_cpu_us_per_token=$CPU postgres_cpu_us_per_token=$PGC load=$(cut -d' ' -f1 /proc/loadavg)"
  done
done
for v in on off; do
  printf '%-3s median tokens/s %s, p99 median %s ms, server CPU %s us/token, PostgreSQL CPU %s us/token\n' "$v" \
    "$(awk -v v="$v" '$2 == v {print $3}' "$WORK/windows" | median)" \
    "$(awk -v v="$v" '$2 == v {print $4}' "$WORK/windows" | median)" \
    "$(awk -v v="$v" '$2 == v {print $5}' "$WORK/windows" | median)" \
    "$(awk -v v="$v" '$2 == v {print $6}' "$WORK/windows" | median)"
done
echo "on/off tokens/s per round: $(awk '$2 == "off" {o[$1] = $3} $2 == "on" {s[$1] = $3} END {for (r = 1; r in s; r++) printf "%.3f ", s[r] / o[r]}' "$WORK/windows")"\
  "median $(awk '$2 == "off" {o[$1] = $3} $2 == "on" {s[$1] = $3} END {for (r in s) print s[r] / o[r]}' "$WORK/windows" | median)"
echo "on/off p99 per round: $(awk '$2 == "off" {o[$1] = $4} $2 == "on" {s[$1] = $4} END {for (r = 1; r in s; r++) printf "%.3f ", s[r] / o[r]}' "$WORK/windows")"
machine
