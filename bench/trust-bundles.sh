#!/usr/bin/env bash
# Trust bundles (docs/benchmarks.md, "Trust bundles"). Two goals, one session:
#
# 1. Serving: GET /issuers/{id}/trust-bundle against nginx serving the same bytes as a static file (same
#    Content-Type, Cache-Control and ETag on), wrk -t2 -c[connections] in alternating rounds after a warm-up, as
#    bench/jwks-vs-nginx.sh does for the JWKS. Goal: Keyhold >= 0.7 x nginx.
# 2. Publishing after a policy change to 1,000 issuers: [issuers] issuers are created through the API (each gets its
#    first bundle); then, for every one, an admin proposes a policy change (one more audience) through
#    POST /v1/issuers/{id}/policy-changes and alice and bob approve it through POST /v1/activations/{id}/decisions
#    (8 client threads); meanwhile and after, every issuer's served bundle is fetched until each one lists the new
#    audience and is signed under the trust anchor's kid. Prints the time from the first proposal until the last
#    approval answered, and until every new bundle was served. Goal: within 60 s.
# 3. Trust key rotation with those issuers: an admin proposes it (POST /v1/trust-anchor/rotations; the bench issuer
#    `tb` is the governing issuer, KEYHOLD_TRUST_GOVERNING_ISSUER), alice and bob approve it; the second approval
#    re-signs every issuer's newest bundle with both keys. Prints the time from the second approval until it answered,
#    and until every issuer's served bundle carried the new trust key's signature. Goal: 1,000 issuers within 60 s.
# Approvals are signed as a custodian at a terminal does: the statement (GET /v1/activations/{id}/statement) signed
# with `ssh-keygen -Y sign -n keyhold-approval` and the demo SSH key embedded mode made for alice and bob.
#
# Usage: bench/trust-bundles.sh [seconds=10] [connections=64] [issuers=1000]   (needs wrk, nginx, curl, psql, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-64}
ISSUERS=${3:-1000}
command -v nginx >/dev/null || { echo "bench needs nginx: sudo apt-get install nginx-light" >&2; exit 1; }
export KEYHOLD_TRUST_GOVERNING_ISSUER=tb
. bench/sign-setup.sh
machine
nginx_stop() { [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true; }
trap 'nginx_stop; cleanup' EXIT

# Part 1
create_issuer tb ES256
activate tb
URL_K="$BASE/issuers/tb/trust-bundle"
for _ in $(seq 1 30); do curl -fs -o /dev/null "$URL_K" && break; sleep 1; done
mkdir -p "$WORK/www" "$WORK/tmp"
curl -fs "$URL_K" -o "$WORK/www/trust-bundle"
curl -fsI "$URL_K" | tr -d '\r' | grep -iE '^(content-type|cache-control|etag)' | sed 's/^/  keyhold: /'
NPORT=$(free_port)
cat >"$WORK/nginx.conf" <<NGINX
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  server {
    listen 127.0.0.1:$NPORT;
    location = /trust-bundle { root $WORK/www; default_type application/jwt; add_header Cache-Control "public, max-age=300"; etag on; }
  }
}
NGINX
nginx -c "$WORK/nginx.conf"
URL_N="http://127.0.0.1:$NPORT/trust-bundle"
rate() { wrk -t2 -c"$CONNS" -d"${DURATION}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
# Warm both until their rates are steady and Keyhold's JIT is quiet (bench/warm.sh), not for a fixed time: after a
# fixed 15 s the JWKS rounds still rose from 13.8k to 22.4k req/s.
. bench/warm.sh
window_rate() { wrk -t2 -c"$CONNS" -d"${WARM_WINDOW}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
JIT_PID=$KPID warm_until_steady keyhold window_rate "$URL_K"
warm_until_steady nginx window_rate "$URL_N"
KS=(); NS=()
for _ in $(seq 1 "${ROUNDS:-3}"); do
  KS+=("$(rate "$URL_K")")
  NS+=("$(rate "$URL_N")")
done
K=$(printf '%s\n' "${KS[@]}" | median)
N=$(printf '%s\n' "${NS[@]}" | median)
echo "serving: body $(wc -c <"$WORK/www/trust-bundle") bytes, $CONNS connections, rounds of ${DURATION} s"
echo "  keyhold req/s: ${KS[*]} (median $K)"
echo "  nginx   req/s: ${NS[*]} (median $N)"
echo "  ratio keyhold/nginx: $(awk -v k="$K" -v n="$N" 'BEGIN { printf "%.2f", k / n }')"
nginx_stop
machine

# Part 2
T0=$(date +%s)
for i in $(seq 1 "$ISSUERS"); do echo "tp-$i"; done | xargs -P4 -I{} curl -fs -o /dev/null -u admin:keyhold-dev \
  -H 'Content-Type: application/json' "$BASE/v1/issuers" -d '{"id":"{}","issuerUri":"https://{}.example",
  "algorithm":"ES256","audiences":["api://{}"],"custodians":["alice","bob","carol"],"approvalsRequired":2,
  "signers":["signer"],"publishLead":"PT2S","rotationPeriod":"P30D","tokenTtl":"PT1H"}'
echo "created $ISSUERS issuers through the API in $(( $(date +%s) - T0 )) s; bundles signed: $(sql "select count(distinct issuer_id) from trust_bundle where issuer_id like 'tp-%'")"
machine
python3 - "$BASE" "$ISSUERS" "$WORK/data/custodian-keys" <<'PY'
import base64, concurrent.futures as cf, json, subprocess, sys, time, urllib.request
base, n, keys = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def call(method, path, user, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Authorization", "Basic " + base64.b64encode((user + ":keyhold-dev").encode()).decode())
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, r.read()
def approve(req, c):
    statement = call("GET", "/v1/activations/%s/statement" % req, c)[1]
    sig = subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-n", "keyhold-approval", "-f", "%s/%s" % (keys, c)],
                         input=statement, capture_output=True, check=True).stdout.decode()
    call("POST", "/v1/activations/%s/decisions" % req, c,
         {"decision": "approve", "comment": "bench", "signature": {"format": "sshsig", "value": sig}})
anchor = json.loads(call("GET", "/v1/trust-anchor", "admin")[1])["keys"][0]["kid"]
ids = ["tp-%d" % i for i in range(1, n + 1)]
def change(i):
    _, body = call("POST", "/v1/issuers/%s/policy-changes" % i, "admin",
                   {"audiences": ["api://" + i, "api://" + i + "/v2"], "reason": "bench"})
    req = json.loads(body)["id"]
    for c in ("alice", "bob"):
        approve(req, c)
def b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
def served(i):
    try:
        _, jws = call("GET", "/issuers/%s/trust-bundle" % i, "admin")
    except Exception:
        return False
    h, p, _ = jws.decode().split(".")
    return json.loads(b64(h))["kid"] == anchor and ("api://" + i + "/v2") in json.loads(b64(p))["audiences"]
t0 = time.time()
with cf.ThreadPoolExecutor(8) as ex:
    list(ex.map(change, ids))
t1 = time.time()
pending = list(ids)
sweeps = 0
while pending and time.time() - t0 < 600:
    with cf.ThreadPoolExecutor(8) as ex:
        ok = list(ex.map(served, pending))
    pending = [i for i, k in zip(pending, ok) if not k]
    sweeps += 1
t2 = time.time()
print("publishing: %d policy changes proposed and approved (3 API calls each) in %.1f s; every new bundle served %.1f s after"
      " the first proposal (%.1f s after the last approval answered; %d check sweeps over all issuers; %d not served)"
      % (n, t1 - t0, t2 - t0, t2 - t1, sweeps, len(pending)))
sys.stdout.flush()

# Part 3: trust key rotation, every issuer's bundle signed again by both keys.
_, body = call("POST", "/v1/trust-anchor/rotations", "admin", {"reason": "bench"})
rot = json.loads(body)["id"]
approve(rot, "alice")
t0 = time.time()
approve(rot, "bob")
t1 = time.time()
new_kid = json.loads(call("GET", "/v1/trust-anchor", "admin")[1])["keys"][0]["kid"]
assert new_kid != anchor, "the trust key did not change"
def resigned(i):
    try:
        _, jws = call("GET", "/issuers/%s/trust-bundle" % i, "admin")
    except Exception:
        return False
    text = jws.decode()
    if text.startswith("{"):
        kids = [json.loads(b64(s["protected"]))["kid"] for s in json.loads(text)["signatures"]]
    else:
        kids = [json.loads(b64(text.split(".")[0]))["kid"]]
    return new_kid in kids
pending = list(ids)
sweeps = 0
while pending and time.time() - t0 < 600:
    with cf.ThreadPoolExecutor(8) as ex:
        ok = list(ex.map(resigned, pending))
    pending = [i for i, k in zip(pending, ok) if not k]
    sweeps += 1
t2 = time.time()
print("trust key rotation: the second approval answered %.1f s after it was sent; every issuer's bundle (%d) carried the"
      " new trust key's signature %.1f s after it (%d check sweeps; %d not re-signed)"
      % (t1 - t0, n, t2 - t0, sweeps, len(pending)))
PY
echo "bundles: $(sql "select count(*) from trust_bundle where issuer_id like 'tp-%'") rows for the tp- issuers"
machine
