#!/usr/bin/env bash
# Custodian-signature verification (docs/dual-control.md). Goals: a chain of 1,000 policy versions verifies in
# < 100 ms; an approval is verified in < 5 ms.
#
# Plain Java, no Quarkus, no database, no HSM: src/test/java/dev/keyhold/policy/PolicyChainBench.java builds in memory
# one issuer's chain of [versions] policy versions (version 1 sealed, each later one a policy change approved by 2 of
# 3 custodians with Ed25519 SSHSIG signatures) and times the production PolicyChain.verifyVersions over it (cold: a
# fresh verifier each run; cached: evidence already verified is skipped), one ApprovalSignatures.verify of an SSHSIG
# approval, and one Approvals.count of a 2-signature statement. Warm-up until stable, then median and p99 over [runs]
# runs. Not included: reading the versions from PostgreSQL and the HSM head-mirror check (see the class comment).
# Run it on a quiet machine; figures taken while other work runs are noise.
#
# Usage: bench/custodian-signatures.sh [versions=1000] [runs=30] [warmup-runs=20] [approval-verifications=2000]
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -o -q -DskipValidator -DskipTests test-compile
CP_FILE=target/bench-custodian-signatures.classpath
./mvnw -B -o -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$CP_FILE" >/dev/null
CP="target/test-classes:target/classes:$(cat "$CP_FILE")"
CPU=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
RESULT=$(java -cp "$CP" dev.keyhold.policy.PolicyChainBench "${1:-1000}" "${2:-30}" "${3:-20}" "${4:-2000}")
echo "$RESULT | nproc=$(nproc) cpu=\"$CPU\" load=\"$(cut -d' ' -f1-3 /proc/loadavg)\" java=\"$(java -version 2>&1 | head -1 | tr -d '"')\" date=$(date -u +%FT%TZ) commit=$(git rev-parse --short HEAD)"
