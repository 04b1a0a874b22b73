#!/usr/bin/env bash
# Evidence ledger benchmark (docs/benchmarks.md, "Evidence ledger"). Three parts, one session:
#
# 1. Signing cost of the ledger: ES256 POST /v1/issuers/{id}/sign, wrk -t2 -c32 (bench/sign.lua), windows of
#    [seconds] alternating in rotating order between three variants, each warmed up first (until the JIT is quiet):
#      off     the same service built from the commit before the ledger was merged (main before "Merge branch
#              'evidence'", built by bench/build-baseline.sh): Keyhold has no switch that turns the ledger off,
#              so "off" is the build without it, started beside this one (own port, data directory, PostgreSQL)
#      strict  this build, an issuer with the default policy: the token is answered once its batch committed
#      best    this build, an issuer with "ledgerBestEffort": true (answered when queued; the ledger is still written)
#    Per window: tokens/s, p99, the server JVM's CPU and its PostgreSQL's CPU (postmaster and backends) per token.
#    Per round: strict/off and best/off. Goal: strict >= 0.85 x off, p99 < 20 ms.
# 2. Lookup: 1,000 tokens signed through the API, looked up with POST /v1/evidence/tokens (auditor) [lookups] times
#    (after 3 not counted), with the ledger as the signing rounds left it and again after the fill below; also
#    1,000 tokens not in the ledger (their signature altered: hash miss, then signature check). Goal: < 100 ms with
#    10 million rows.
# 3. Fill and size: the ledger is filled up to [rows] token rows by bulk SQL inserts straight into this throw-away
#    PostgreSQL (test data, not a service path: real signing at a few thousand tokens/s on this machine would take
#    hours): rows shaped like the writer's (SHA-256 hashes, UUID jti, 1,000 issuers with their kids, sub, aud, iat,
#    exp; batches of the mean size the signing rounds produced, hash-like digests), all in today's partitions, in
#    chunks of 1,000,000, stopping early after FILL_LIMIT seconds (default 1500); prints the rows reached.
#    Then the ledger's storage: pg_total_relation_size over every partition of ledger_token and ledger_batch
#    (heap, indexes, TOAST), and rows per GiB.
#
# Usage: bench/evidence-ledger.sh [seconds=10] [connections=32] [rounds=5] [rows=10000000] [lookups=20]
# APP_OFF=dir uses another build as "off"; SKIP_SIGN=1 skips part 1 (no "off" build needed); FILL_LIMIT=seconds;
# FILL_BATCH=n sets the fill's batch size (default: the mean batch size found in the ledger before the fill).
# Needs wrk, curl, psql, python3, a JDK. Every process it starts (both Keyholds, their PostgreSQL) stops at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-32}
ROUNDS=${3:-5}
ROWS=${4:-10000000}
LOOKUPS=${5:-20}
FILL_LIMIT=${FILL_LIMIT:-1500}
if [ -z "${SKIP_SIGN:-}" ] && [ -z "${APP_OFF:-}" ]; then
  OFF_COMMIT=$(git log --merges --format=%H --grep="^Merge branch 'evidence'" -1)
  APP_OFF=$(bench/build-baseline.sh "$OFF_COMMIT^1")
fi
. bench/sign-setup.sh
HZ=$(getconf CLK_TCK)
machine

ON_BASE=$BASE ON_PG=$PGPORT ON_PID=$KPID ON_DATA=$WORK/data
use() { # on|off: the instance BASE, sql, KPID and DATA refer to
  case $1 in
    on) BASE=$ON_BASE PGPORT=$ON_PG KPID=$ON_PID DATA=$ON_DATA ;;
    off) BASE=$OFF_BASE PGPORT=$OFF_PG KPID=$OFF_PID DATA=$OFF_DATA ;;
  esac
  PGPASSWORD=$(cat "$DATA/pg-password" 2>/dev/null || true) # each embedded PostgreSQL has its own password
}
# CPU ticks of a process (user + system); of a data directory's PostgreSQL: the postmaster, its exited children
# and its live ones (backends, writer, WAL writer...).
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pg_ticks() {
  local pm
  pm=$(head -1 "$1/pg/postmaster.pid")
  { awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat"
    for c in $(pgrep -P "$pm"); do awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || true; done
  } | awk '{s += $1} END {print s + 0}'
}

create_issuer ev-strict ES256
create_issuer ev-best ES256 '"ledgerBestEffort":true'
activate ev-strict
activate ev-best

if [ -z "${SKIP_SIGN:-}" ]; then
  OFF_PORT=$(free_port)
  start_keyhold "$APP_OFF" "$OFF_PORT" "$WORK/data-off"
  OFF_BASE=http://127.0.0.1:$OFF_PORT OFF_PG=$STARTED_PGPORT OFF_PID=$STARTED_PID OFF_DATA=$WORK/data-off
  use off
  create_issuer ev-off ES256
  activate ev-off
  echo "off = $APP_OFF"

  variant() { # off|strict|best: sets the instance and ISSUER
    case $1 in
      off) use off; ISSUER=ev-off ;;
      strict) use on; ISSUER=ev-strict ;;
      best) use on; ISSUER=ev-best ;;
    esac
  }
  for v in off strict best; do variant $v; ALG="ES256 $v"; warm_up "$ISSUER"; done
  : >"$WORK/windows"
  ORDER=(off strict best)
  for r in $(seq 1 "$ROUNDS"); do
    for i in 0 1 2; do
      v=${ORDER[$(( (i + r) % 3 ))]}
      variant "$v"
      C0=$(proc_ticks "$KPID"); P0=$(pg_ticks "$DATA")
      LINE=$(ISSUER=$ISSUER wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s bench/sign.lua "$BASE" | grep '^RESULT')
      C1=$(proc_ticks "$KPID"); P1=$(pg_ticks "$DATA")
      REQS=$(echo "$LINE" | sed -E 's/.*requests=([0-9]+).*/\1/')
      CPU=$(awk -v d=$((C1 - C0)) -v n="$REQS" -v hz="$HZ" 'BEGIN { printf "%.0f", d * 1e6 / hz / n }')
      PGC=$(awk -v d=$((P1 - P0)) -v n="$REQS" -v hz="$HZ" 'BEGIN { printf "%.0f", d * 1e6 / hz / n }')
      RPS=$(echo "$LINE" | sed -E 's/.*rps=([0-9.]+).*/\1/')
      P99=$(echo "$LINE" | sed -E 's/.*p99_ms=([0-9.]+).*/\1/')
      echo "$r $v $RPS $P99 $CPU $PGC" >>"$WORK/windows"
      echo "round $r $v: $LINE server_cpu_us_per_token=$CPU postgres_cpu_us_per_token=$PGC load=$(cut -d' ' -f1 /proc/loadavg)"
    done
  done
  for v in off strict best; do
    awk -v v="$v" '$2 == v {print $3}' "$WORK/windows" | median >"$WORK/m_rps"
    awk -v v="$v" '$2 == v {print $4}' "$WORK/windows" | median >"$WORK/m_p99"
    awk -v v="$v" '$2 == v {print $5}' "$WORK/windows" | median >"$WORK/m_cpu"
    awk -v v="$v" '$2 == v {print $6}' "$WORK/windows" | median >"$WORK/m_pg"
    printf '%-6s median tokens/s %s, p99 median %s ms (worst %s), server CPU %s us/token, PostgreSQL CPU %s us/token\n' "$v" \
      "$(cat "$WORK/m_rps")" "$(cat "$WORK/m_p99")" "$(awk -v v="$v" '$2 == v && $4 > w {w = $4} END {print w}' "$WORK/windows")" \
      "$(cat "$WORK/m_cpu")" "$(cat "$WORK/m_pg")"
  done
  for v in strict best; do
    echo "$v/off per round: $(awk -v v="$v" '$2 == "off" {o[$1] = $3} $2 == v {s[$1] = $3} END {for (r = 1; r in s; r++) printf "%.2f ", s[r] / o[r]}' "$WORK/windows")"\
      "median $(awk -v v="$v" '$2 == "off" {o[$1] = $3} $2 == v {s[$1] = $3} END {for (r in s) print s[r] / o[r]}' "$WORK/windows" | median)"
  done
  stop_keyhold "$OFF_PID" "$OFF_DATA"
  machine
fi

use on
# Part 2: 1,000 real tokens, and the same with an altered signature.
mkdir -p "$WORK/signed"
seq 1 1000 | xargs -P4 -I{} curl -s -o "$WORK/signed/{}" -w '%{http_code}\n' -u signer:keyhold-dev \
  -H 'Content-Type: application/json' -d '{"claims":{"sub":"user-{}","aud":"api://ev-strict","scope":"read"}}' \
  "$BASE/v1/issuers/ev-strict/sign" | sort | uniq -c | sed 's/^/  sign status: /'
cat "$WORK"/signed/* | grep -o '"token":"[^"]*"' | cut -d'"' -f4 >"$WORK/tokens" || true
python3 - "$WORK" <<'PY'
import hashlib, json, sys
w = sys.argv[1]
toks = [t.strip() for t in open(w + "/tokens") if t.strip()]
assert len(toks) == 1000, len(toks)
def alter(t):  # one character in the middle of the signature
    i = len(t) - 20
    return t[:i] + ("A" if t[i] != "A" else "B") + t[i + 1:]
json.dump({"tokens": toks}, open(w + "/issued.json", "w"))
json.dump({"tokens": [alter(t) for t in toks]}, open(w + "/missing.json", "w"))
open(w + "/hashes", "w").write("{" + ",".join(hashlib.sha256(t.encode()).hexdigest() for t in toks) + "}")
PY
lookup() { # label body-file: LOOKUPS timed POST /v1/evidence/tokens after 3 untimed; prints p50/p95/max in ms
  local i out
  for i in 1 2 3; do
    curl -fs -o "$WORK/lookup.out" -u auditor:keyhold-dev -H 'Content-Type: application/json' --data-binary @"$2" "$BASE/v1/evidence/tokens"
  done
  echo "  $1: judgements $(grep -o '"judgement":"[a-z_]*"' "$WORK/lookup.out" | sort | uniq -c | tr -s ' \n' ' ')"
  : >"$WORK/times"
  for i in $(seq 1 "$LOOKUPS"); do
    curl -fs -o /dev/null -w '%{time_total}\n' -u auditor:keyhold-dev -H 'Content-Type: application/json' \
      --data-binary @"$2" "$BASE/v1/evidence/tokens" >>"$WORK/times"
  done
  sort -g "$WORK/times" | awk -v l="$1" '{v[NR] = $1 * 1000} END {
    printf "  %s: %d lookups of 1,000 tokens: p50 %.1f ms, p95 %.1f ms, max %.1f ms\n", l, NR, v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.999)], v[NR] }'
}
size() {
  sql "select count(*) from ledger_token" >"$WORK/rows"
  sql "select (select sum(pg_total_relation_size(relid)) from pg_partition_tree('ledger_token')),
              (select sum(pg_total_relation_size(relid)) from pg_partition_tree('ledger_batch')),
              (select count(*) from ledger_batch)" | tr '|' ' ' >"$WORK/bytes"
  read -r TB BB NB <"$WORK/bytes"
  awk -v n="$(cat "$WORK/rows")" -v tb="$TB" -v bb="$BB" -v nb="$NB" 'BEGIN {
    printf "  ledger: %d token rows, %d batches; ledger_token %.1f MiB, ledger_batch %.1f MiB (with indexes); %.0f token rows per GiB\n",
      n, nb, tb / 1048576, bb / 1048576, n / ((tb + bb) / 1073741824) }'
}
echo "lookup with the ledger the signing rounds left:"
size
lookup issued "$WORK/issued.json"
lookup not-in-ledger "$WORK/missing.json"

# Part 3: fill with bulk SQL (test data in the bench's own database), then measure again.
BATCH=${FILL_BATCH:-$(sql "select greatest(1, round(avg(token_count)))::int from ledger_batch")}
HAVE=$(sql "select count(*) from ledger_token")
echo "fill: from $HAVE token rows to $ROWS, batches of $BATCH tokens (the mean of the signing rounds), at most $FILL_LIMIT s"
SEQ0=1000000000 # above any real batch seq of this run
T0=$(sql "select date_trunc('day', now() at time zone 'UTC') at time zone 'UTC'")
SPAN=$(sql "select extract(epoch from now() - '$T0'::timestamptz) - 60")
START=$(date +%s)
G=0
CHUNK=1000000
while [ $((HAVE + G)) -lt "$ROWS" ] && [ $(( $(date +%s) - START )) -lt "$FILL_LIMIT" ]; do
  N=$(( ROWS - HAVE - G < CHUNK ? ROWS - HAVE - G : CHUNK ))
  C0=$(date +%s.%N)
  # Token g of the fill is in batch g / BATCH; a batch's time runs from the start of today to a minute ago.
  sql "begin;
    insert into ledger_batch (seq, recorded_at, node, token_count, tokens_digest, prev_hash, hash)
    select $SEQ0 + b, '$T0'::timestamptz + make_interval(secs => $SPAN * (b::float8 / ($ROWS / $BATCH + 1))), 'bulk', $BATCH,
           encode(sha256(int8send(b)), 'hex'), encode(sha256(int8send(b - 1)), 'hex'), encode(sha256(int8send(-b)), 'hex')
    from generate_series($G / $BATCH + (case when $G % $BATCH = 0 then 0 else 1 end), ($G + $N - 1) / $BATCH) b;
    insert into ledger_token (recorded_at, batch_seq, position, token_sha256, jti, kid, issuer_id, sub, aud, iat, exp)
    select ts, $SEQ0 + g / $BATCH, g % $BATCH, sha256(int8send(g)), gen_random_uuid()::text,
           translate(rtrim(encode(sha256(convert_to('bulk-' || (g % 1000), 'UTF8')), 'base64'), '='), '+/', '-_'),
           'bulk-' || (g % 1000), 'user-' || (g % 100000), '\"api://bulk-' || (g % 1000) || '\"',
           extract(epoch from ts)::bigint, extract(epoch from ts)::bigint + 3600
    from (select g, '$T0'::timestamptz + make_interval(secs => $SPAN * ((g / $BATCH)::float8 / ($ROWS / $BATCH + 1))) ts
          from generate_series($G, $G + $N - 1) g) s;
    commit;"
  G=$((G + N))
  echo "  filled $((HAVE + G)) token rows; chunk of $N in $(awk -v a="$C0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s; load $(cut -d' ' -f1 /proc/loadavg)"
done
sql "analyze ledger_token; analyze ledger_batch"
echo "fill done in $(( $(date +%s) - START )) s"
machine
echo "lookup after the fill:"
size
lookup issued "$WORK/issued.json"
lookup not-in-ledger "$WORK/missing.json"
echo "plan of the lookup query (1,000 issued tokens' hashes):"
sql "explain (analyze, buffers) select encode(t.token_sha256, 'hex'), t.jti, t.kid, t.issuer_id, t.iat, t.exp, t.batch_seq
     from ledger_token t where t.token_sha256 = any (select decode(h, 'hex') from unnest('$(cat "$WORK/hashes")'::text[]) h)" \
  | grep -E 'Execution Time|Planning Time|Nested Loop|Index Scan|Append|Buffers' | head -12 | sed 's/^/  /'
machine
