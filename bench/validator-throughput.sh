#!/usr/bin/env bash
# validate() of the relying-party kit against plain Nimbus verification of the same token with a fixed key, in one
# JVM, alternating rounds, one thread (validator/src/test/java/dev/keyhold/validator/ValidateThroughputBench.java).
# Usage: bench/validator-throughput.sh [rounds=7] [round-millis=2000]
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -o -f validator/pom.xml test-compile
cp=$(./mvnw -B -q -o -f validator/pom.xml dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/dev/stdout)
java -cp "validator/target/test-classes:validator/target/classes:$cp" dev.keyhold.validator.ValidateThroughputBench "$@"
