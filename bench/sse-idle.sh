#!/usr/bin/env bash
# Idle SSE subscribers (docs/benchmarks.md, "Event feed: idle subscribers"). Goal: 1,000 idle subscribers
# of GET /v1/events/stream cost one database read per poll interval (keyhold.events.poll-interval, 0.2 s).
# Starts the packaged jar (bench/sign-setup.sh), then bench/RevocationPropagationBench.java in its --sse mode: an idle
# window of [idle-seconds] with no subscriber, then [subscribers] plain HTTP/1.1 connections to the stream and the
# same window again; prints the Keyhold process's CPU and its PostgreSQL's transactions, rows and buffer reads per
# second (pg_stat_database; the measuring query adds about 2 transactions per window).
# Usage: bench/sse-idle.sh [subscribers=1000] [idle-seconds=30]
set -euo pipefail
cd "$(dirname "$0")/.."
SUBSCRIBERS=${1:-1000}
IDLE=${2:-30}
NIMBUS=$(ls ~/.m2/repository/com/nimbusds/nimbus-jose-jwt/10.4.2/nimbus-jose-jwt-10.4.2.jar 2>/dev/null \
  || ls target/quarkus-app/lib/main/com.nimbusds.nimbus-jose-jwt-*.jar | head -1)
. bench/sign-setup.sh
machine
echo "poll interval: $(grep '^keyhold.events.poll-interval' src/main/resources/application.properties)"
mkdir -p "$WORK/cls"
javac -nowarn -d "$WORK/cls" -cp "$NIMBUS" validator/src/main/java/dev/keyhold/validator/*.java bench/RevocationPropagationBench.java
PGJAR=$(ls "$APP"/lib/main/org.postgresql.postgresql-*.jar | head -1)
java -Xmx1g -cp "$WORK/cls:$NIMBUS:$PGJAR" RevocationPropagationBench "$BASE" "$SUBSCRIBERS" --sse "$KPID" \
  "jdbc:postgresql://127.0.0.1:$PGPORT/postgres" "$IDLE" admin:keyhold-dev "$(getconf CLK_TCK)"
machine
