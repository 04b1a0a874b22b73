#!/bin/sh
# Scheduler sweep benchmark (docs/benchmarks.md, "Scheduler sweeps"): 10,000 idle issuers, then 1,000 issuers due
# for their first ES256 key, against the test PostgreSQL and SoftHSM2. Prints the BENCH lines.
set -e
cd "$(dirname "$0")/.."
./mvnw -B test -DskipEnsure -Dtest=SchedulerSweepBench -Dsurefire.failIfNoSpecifiedTests=false "$@"
grep -h '^BENCH' target/surefire-reports/dev.keyhold.bench.SchedulerSweepBench-output.txt
