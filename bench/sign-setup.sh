# Sourced by the signing benches (sign-throughput.sh, sign-overhead.sh): starts the packaged jar from $APP in
# embedded mode on a throw-away data directory at $PORT (rate limits and canaries off, JWKS max-age 1 s, extra
# JVM options from $JAVA_OPTS), waits until it is ready, and defines BASE, KPID, WORK, sql, create_issuer and
# thread_ticks.
# The caller has set -euo pipefail and cd'd to the repository root.
for tool in wrk curl psql java; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool" >&2; exit 1; }
done
APP=${APP:-target/quarkus-app}
[ -f "$APP/quarkus-run.jar" ] || ./mvnw -q -B -DskipTests -DskipEnsure package
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
  java -Xmx1g ${JAVA_OPTS:-} -jar "$APP/quarkus-run.jar" >"$WORK/keyhold.log" 2>&1 &
KPID=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 120); do
  curl -fs "$BASE/q/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -fs "$BASE/q/health/ready" >/dev/null || { echo "Keyhold did not start; log:" >&2; tail -20 "$WORK/keyhold.log" >&2; exit 1; }
PGPORT=$(sed -n 4p "$WORK/data/pg/postmaster.pid")
sql() { psql -q -t -A -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -c "$1"; }

create_issuer() { # id algorithm
  curl -fs -u admin:keyhold-dev -H 'Content-Type: application/json' -o /dev/null "$BASE/v1/issuers" -d "{
    \"id\":\"$1\",\"issuerUri\":\"https://$1.example\",\"algorithm\":\"$2\",\"audiences\":[\"api://$1\"],
    \"custodians\":[\"alice\",\"bob\",\"carol\"],\"approvalsRequired\":2,\"signers\":[\"signer\"],
    \"publishLead\":\"PT2S\",\"rotationPeriod\":\"P30D\",\"tokenTtl\":\"PT1H\"}"
}

# CPU ticks (user + system) of the server's threads so far, one "group|ticks" line per thread group, sorted: a
# group is a thread name without its number, digits inside it as N ("vert.x-eventloop-thread", "CN CompilerThre").
thread_ticks() {
  for t in /proc/"$KPID"/task/*; do
    printf '%s|%s\n' "$(sed -E 's/[-#]?[0-9]+$//; s/[0-9]+/N/g' "$t/comm" 2>/dev/null)" "$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null)"
  done | awk -F'|' '{c[$1] += $2} END {for (k in c) print k "|" c[k]}' | LC_ALL=C sort
}
