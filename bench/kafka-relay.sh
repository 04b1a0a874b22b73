#!/usr/bin/env bash
# Kafka relay benchmark: end-to-end latency (commit -> consumer) at a fixed event rate, and the relay's
# throughput draining a backlog. Starts its own single-node Kafka broker (child JVM from the Maven artifacts),
# PostgreSQL and Keyhold (as a Quarkus test); prints p50/p95/p99 and rates, appends them to target/relay-bench.txt.
# Goal: p99 < 500 ms at 1,000 events/s.
#
# Usage: bench/kafka-relay.sh [events-per-second] [seconds] [outbox|recorder]
#   outbox   (default): writers append outbox rows the way ChangeRecorder does (chain lock, commit), no audit record
#   recorder: writers go through ChangeRecorder itself (audit chain + outbox)
# A warm-up at the same rate (BENCH_WARMUP=10 seconds by default, not counted, reported separately) precedes the measured window.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q test -DskipEnsure -Dtest=RelayBenchmark -Dsurefire.failIfNoSpecifiedTests=false -Dbench=relay \
  -Dbench.rate="${1:-1000}" -Dbench.seconds="${2:-30}" -Dbench.writer="${3:-outbox}" \
  -Dbench.warmup="${BENCH_WARMUP:-10}" || status=$?
grep -hE '^(warm-up|end-to-end|drain)' target/relay-bench.txt | tail -3
exit "${status:-0}"
