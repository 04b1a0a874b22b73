#!/usr/bin/env bash
# Revocation propagation to relying-party validators (docs/benchmarks.md, "Revocation propagation").
# Goal: POST /v1/keys/{kid}/revoke committed -> every one of 100 validator instances refuses tokens of that kid,
# p99 < 1 s, with the JWKS max-age at its default (5 min); p50/p99/max over at least 50 revocations; the server's
# CPU and database reads while 100 validators are subscribed and idle.
#
# Setup: the packaged jar in embedded mode (bench/sign-setup.sh; JWKS max-age 1 s so that the issuers' first keys
# can be activated by alice and bob after a 2 s publish lead), [revocations] ES256 issuers with an ACTIVE key each
# and one token signed by each. Then Keyhold is restarted on the same data directory with the default max-age
# (PT5M: checked on the JWKS Cache-Control), and bench/RevocationPropagationBench.java (compiled with the kit's
# sources from validator/, Nimbus from ~/.m2) runs [instances] KeyholdValidator instances in one JVM, each with its
# own HTTP client and feed connection, each trusting every issuer: idle windows of [idle-seconds] without and with
# the validators subscribed, then one revocation per issuer (see the Java file for how latency is taken).
#
# Usage: bench/revocation-propagation.sh [instances=100] [revocations=50] [idle-seconds=30]
set -euo pipefail
cd "$(dirname "$0")/.."
INSTANCES=${1:-100}
REVOCATIONS=${2:-50}
IDLE=${3:-30}
NIMBUS=$(ls ~/.m2/repository/com/nimbusds/nimbus-jose-jwt/10.4.2/nimbus-jose-jwt-10.4.2.jar 2>/dev/null \
  || ls target/quarkus-app/lib/main/com.nimbusds.nimbus-jose-jwt-*.jar | head -1)
. bench/sign-setup.sh
machine
ISSUERS=()
for i in $(seq 1 "$REVOCATIONS"); do
  create_issuer "rv-$i" ES256
  ISSUERS+=("rv-$i")
done
activate_many "${ISSUERS[@]}"
: >"$WORK/tokens"
for issuer in "${ISSUERS[@]}"; do
  token=$(curl -fs -u signer:keyhold-dev -H 'Content-Type: application/json' \
    -d "{\"claims\":{\"sub\":\"user-1\",\"aud\":\"api://$issuer\"}}" "$BASE/v1/issuers/$issuer/sign" \
    | sed -E 's/.*"token":"([^"]+)".*/\1/')
  kid=$(sql "select kid from signing_key where issuer_id = '$issuer' and state = 'ACTIVE'")
  echo "$issuer $kid $token" >>"$WORK/tokens"
done
echo "$REVOCATIONS issuers with an ACTIVE key and a token each; restarting with the default JWKS max-age"
# Commit timestamps (read after the restart, which restarts the embedded PostgreSQL): the latency from each revoking
# transaction's commit, pg_xact_commit_timestamp(xmin) of the key's row.
sql "alter system set track_commit_timestamp = on" >/dev/null
stop_keyhold "$KPID" "$WORK/data"
start_keyhold "$APP" "$PORT" "$WORK/data" KEYHOLD_JWKS_MAX_AGE=PT5M
KPID=$STARTED_PID
PGPORT=$STARTED_PGPORT
export PGPASSWORD="$(cat "$WORK/data/pg-password")"  # embedded PostgreSQL requires its password
echo "JWKS $(curl -fsI "$BASE/issuers/rv-1/.well-known/jwks.json" | grep -i '^cache-control' | tr -d '\r')"
mkdir -p "$WORK/cls"
javac -nowarn -d "$WORK/cls" -cp "$NIMBUS" validator/src/main/java/dev/keyhold/validator/*.java bench/RevocationPropagationBench.java
PGJAR=$(ls "$APP"/lib/main/org.postgresql.postgresql-*.jar | head -1)
java -Xmx1g -cp "$WORK/cls:$NIMBUS:$PGJAR" RevocationPropagationBench "$BASE" "$INSTANCES" "$WORK/tokens" "$KPID" \
  "jdbc:postgresql://127.0.0.1:$PGPORT/postgres" "$IDLE" admin:keyhold-dev "$(getconf CLK_TCK)"
machine
