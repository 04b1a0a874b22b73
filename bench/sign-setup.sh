# Sourced by the benches that run the packaged jar (sign-throughput, sign-overhead, evidence-ledger,
# revocation-propagation, trust-bundles, console-pages, sse-idle): starts the packaged
# jar from $APP in embedded mode on a throw-away data directory at $PORT (a free port unless set) (rate limits and canaries off, JWKS max-age
# 1 s, extra JVM options from $JAVA_OPTS), waits until it is ready, and defines BASE, KPID, WORK, sql,
# start_keyhold (another instance), stop_keyhold, free_port, machine, create_issuer, activate, activate_many, approve, signing_input, thread_ticks, jit_ticks, pg_ticks, warm_up (bench/warm.sh), median and the raw_* functions.
# The caller has set -euo pipefail and cd'd to the repository root.
for tool in wrk curl psql java; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool" >&2; exit 1; }
done
APP=${APP:-target/quarkus-app}
[ -f "$APP/quarkus-run.jar" ] || ./mvnw -q -B -DskipTests -DskipEnsure package
WORK=$(mktemp -d)
# Every Keyhold this bench started ("pid|data dir" per line): stopped at exit, each with its embedded PostgreSQL.
: >"$WORK/started"
stop_keyhold() { # pid data-dir
  local pgpid
  pgpid=$(head -1 "$2/pg/postmaster.pid" 2>/dev/null || true)
  kill "$1" 2>/dev/null && wait "$1" 2>/dev/null || true
  # The JVM stops its embedded PostgreSQL on the way out; a postmaster still running after that is stopped here.
  [ -n "$pgpid" ] && kill "$pgpid" 2>/dev/null || true
}
cleanup() {
  while IFS='|' read -r pid dir; do stop_keyhold "$pid" "$dir"; done <"$WORK/started"
  sleep 1
  rm -rf "$WORK"
}
trap cleanup EXIT
# start_keyhold APP PORT DATA [env assignments...]: starts the packaged jar in embedded mode on data directory DATA at
# PORT (rate limits and canaries off, JWKS max-age 1 s, -Xmx1g plus $JAVA_OPTS), waits until it is ready; sets
# STARTED_PID, STARTED_PGPORT and STARTED_SECONDS (from the launch until ready, polled every 0.2 s). publishLead must exceed the JWKS max-age: a 1 s max-age lets the bench keys become
# activatable after 2 s.
start_keyhold() {
  local app=$1 port=$2 data=$3
  shift 3
  env KEYHOLD_DATA_DIR="$data" QUARKUS_HTTP_PORT="$port" KEYHOLD_JWKS_MAX_AGE=PT1S \
    KEYHOLD_SIGNING_RATE_LIMIT_PER_ISSUER=0 KEYHOLD_SIGNING_RATE_LIMIT_PER_PRINCIPAL=0 KEYHOLD_CANARY_INTERVAL=off \
    QUARKUS_LOG_CATEGORY__DEV_KEYHOLD_VERIFY_VERDICTS__LEVEL=WARN "$@" \
    java -Xmx1g ${JAVA_OPTS:-} -jar "$app/quarkus-run.jar" >"$data.log" 2>&1 &
  STARTED_PID=$!
  local t0
  t0=$(date +%s.%N)
  echo "$STARTED_PID|$data" >>"$WORK/started"
  for _ in $(seq 1 900); do
    kill -0 "$STARTED_PID" 2>/dev/null || break
    curl -fs "http://127.0.0.1:$port/q/health/ready" >/dev/null 2>&1 && break
    sleep 0.2
  done
  STARTED_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  curl -fs "http://127.0.0.1:$port/q/health/ready" >/dev/null \
    || { echo "Keyhold did not start; log:" >&2; tail -20 "$data.log" >&2; exit 1; }
  STARTED_PGPORT=$(sed -n 4p "$data/pg/postmaster.pid")
  export PGPASSWORD="$(cat "$data/pg-password")" # the embedded PostgreSQL requires its password (psql, JDBC)
}
# One line: time, machine (nproc, CPU model, RAM) and load average, for every figure a bench prints.
machine() { echo "$(date -u +%FT%TZ) machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs),"\
  "$(free -g | awk '/Mem:/{print $2}') GiB RAM; load average $(cut -d' ' -f1-3 /proc/loadavg)"; }
# A free TCP port (a port someone else's Keyhold answers on would be measured instead).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=${PORT:-$(free_port)}
start_keyhold "$APP" "$PORT" "$WORK/data"
KPID=$STARTED_PID
BASE="http://127.0.0.1:$PORT"
ln -sf "$WORK/data.log" "$WORK/keyhold.log"
PGPORT=$STARTED_PGPORT
sql() { psql -q -t -A -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -c "$1"; }

create_issuer() { # id algorithm [extra JSON members, e.g. "ledgerBestEffort":true]
  curl -fs -u admin:keyhold-dev -H 'Content-Type: application/json' -o /dev/null "$BASE/v1/issuers" -d "{${3:+$3,}
    \"id\":\"$1\",\"issuerUri\":\"https://$1.example\",\"algorithm\":\"$2\",\"audiences\":[\"api://$1\"],
    \"custodians\":[\"alice\",\"bob\",\"carol\"],\"approvalsRequired\":2,\"signers\":[\"signer\"],
    \"publishLead\":\"PT2S\",\"rotationPeriod\":\"P30D\",\"tokenTtl\":\"PT1H\"}"
}

# CPU ticks (user + system) of the server's threads so far, one "group|ticks" line per thread group, sorted: a
# group is a thread name without its number, digits inside it as N ("vert.x-eventloop-thread", "CN CompilerThre").
thread_ticks() {
  for t in /proc/"$KPID"/task/*; do
    printf '%s|%s\n' "$(sed -E 's/[-#]?[0-9]+$//; s/[0-9]+/N/g' "$t/comm" 2>/dev/null)" "$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null)"
  done | awk -F'|' '{c[$1] += $2} END {for (k in c) print k "|" c[k]}' | LC_ALL=C sort -t'|' -k1,1
}

# approve REQUEST [base-url] [data-dir] (default $BASE and $DATA, else the first instance's): alice and bob approve a request the way a custodian does from a terminal:
# bin/keyhold-approve fetches its statement, signs it with the demo SSH key embedded mode made for them
# (custodian-keys/<name> in the data directory) and posts the signed decision.
approve() {
  local custodian
  for custodian in alice bob; do
    bin/keyhold-approve -y -u "${2:-$BASE}" -U "$custodian:keyhold-dev" -k "${3:-${DATA:-$WORK/data}}/custodian-keys/$custodian" \
      -m bench "$1" >/dev/null || { echo "$custodian could not approve $1" >&2; exit 1; }
  done
}

# An ACTIVE key for an issuer through the API: a rotation, then alice and bob approve its activation request through
# POST /v1/activations/{id}/decisions once the publish lead (PT2S) has passed; waits until the key is ACTIVE.
activate() { # issuer
  local issuer=$1 kid request
  kid=$(curl -fs -u scheduler:keyhold-dev -H 'Content-Type: application/json' -d '{}' "$BASE/v1/issuers/$issuer/rotations" \
    | sed -E 's/.*"kid":"([^"]+)".*/\1/')
  request=$(sql "select id from activation_request where kid = '$kid' and state = 'OPEN'")
  sleep 3 # past publishLead (PT2S)
  approve "$request"
  for _ in $(seq 1 60); do
    [ "$(sql "select state from signing_key where kid = '$kid'")" = ACTIVE ] && return
    sleep 1
  done
  echo "no ACTIVE key for $issuer" >&2
  exit 1
}

# The same for many issuers at once (one publish-lead wait for all): activate_many issuer...
activate_many() {
  local issuer kid request
  : >"$WORK/activating"
  for issuer in "$@"; do
    kid=$(curl -fs -u scheduler:keyhold-dev -H 'Content-Type: application/json' -d '{}' "$BASE/v1/issuers/$issuer/rotations" \
      | sed -E 's/.*"kid":"([^"]+)".*/\1/')
    echo "$kid" >>"$WORK/activating"
  done
  sleep 3 # past publishLead (PT2S)
  while read -r kid; do
    approve "$(sql "select id from activation_request where kid = '$kid' and state = 'OPEN'")"
  done <"$WORK/activating"
  for _ in $(seq 1 120); do
    [ "$(sql "select count(*) from signing_key where state = 'ACTIVE' and kid in ($(sed "s/.*/'&'/" "$WORK/activating" | paste -sd,))")" = $# ] && return
    sleep 1
  done
  echo "not every key became ACTIVE" >&2
  exit 1
}

# The signing input (header.payload) of a real token of the issuer, for the raw bench to sign.
signing_input() { # issuer
  local token
  token=$(curl -fs -u signer:keyhold-dev -H 'Content-Type: application/json' \
    -d "{\"claims\":{\"sub\":\"user-1\",\"aud\":\"api://$1\",\"scope\":\"read write\"}}" "$BASE/v1/issuers/$1/sign" \
    | sed -E 's/.*"token":"([^"]+)".*/\1/')
  echo "${token%.*}"
}

# The raw SunPKCS11 bench (bench/RawSignBench.java, from the build being measured) on the same token, 2 threads,
# kept running between windows: raw_start ALG SECONDS INPUT; then raw_window runs one window of SECONDS and sets RAW
# (sig/s) and RAW_CPU (CPU µs per signature), raw_adapter one through Keyhold's HSM adapter (sets ADAPTER); raw_stop.
raw_start() { # alg seconds input
  local cp="$APP/lib/boot/*:$APP/lib/main/*:$APP/app/*"
  coproc RAWB { java --add-exports=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED -cp "$cp" \
    bench/RawSignBench.java "$WORK/data" "$1" 2 "$2" "$3" --serve 2>"$WORK/raw.err"; }
}
raw_failed() { echo "the raw bench failed:" >&2; tail -20 "$WORK/raw.err" >&2; exit 1; }
raw_window() { echo raw >&"${RAWB[1]}"; read -r _ _ _ RAW RAW_CPU <&"${RAWB[0]}" || raw_failed; }
raw_adapter() { echo adapter >&"${RAWB[1]}"; read -r _ _ _ ADAPTER _ <&"${RAWB[0]}" || raw_failed; }
raw_stop() { eval "exec ${RAWB[1]}>&-"; wait "$RAWB_PID" 2>/dev/null || true; }

. bench/warm.sh
# CPU ticks of the server's JIT compiler threads (C1 and C2) so far.
jit_ticks() { jit_ticks_of "$KPID"; }

# CPU ticks (user + system) of the server's PostgreSQL so far: the postmaster, its live children (backends, WAL
# writer, checkpointer, ...) and, through the postmaster's cutime/cstime, its children that have exited. Part of the
# cost of a token: the ledger's batches are written by these processes, not by the JVM.
pg_ticks() {
  local pm c s
  pm=$(head -1 "$WORK/data/pg/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  s=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat" 2>/dev/null || echo 0)
  for c in $(ps -o pid= --ppid "$pm" 2>/dev/null); do
    s=$((s + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
  done
  echo "$s"
}

# Warm-up: load in windows of WARM_WINDOW (5) s until two consecutive windows' rates are within 5 % and the JIT
# compilers have gone quiet (under 2 % of one CPU in a window), at least WARMUP seconds (default 15), at most
# WARMUP_MAX (120) s (bench/warm.sh). Rounds measured while C2 still compiles are not steady state: on 2 cores it took
# ~10 % of the CPU between 10 and 20 s of RS256 load and kept the signing threads at 50-85 % of the cores for a whole
# window 30 s in, where later windows had 93-95 % (docs/benchmarks.md).
sign_window() { ISSUER=$1 wrk -t2 -c"$CONNS" -d"${WARM_WINDOW}s" -s bench/sign.lua "$BASE" | awk '/Requests\/sec/ {print $2}'; }
warm_up() { # issuer (load with $CONNS connections; the line printed names $ALG)
  JIT_PID=$KPID WARM_MIN_ROUNDS=$(( (${WARMUP:-15} + WARM_WINDOW - 1) / WARM_WINDOW )) \
    warm_until_steady "$ALG" sign_window "$1"
}

# The median of the numbers on standard input, one per line (the mean of the middle two for an even count).
median() { sort -g | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
